-- One commit of the ledger in one call, so a commit is one round trip to the server instead of one
-- per statement. Called outside any transaction, the call is its own transaction: the lock below
-- serialises appends of every node, and the head is read after the lock is held (each statement
-- of a volatile function sees what was committed before it started). Returns false, writing
-- nothing, when the head is no longer `expected_head`.
CREATE FUNCTION purl_append(
    expected_head BIGINT, lock_key BIGINT,
    e_seq BIGINT[], e_at_us BIGINT[], e_actor TEXT[], e_kind TEXT[], e_body BYTEA[],
    e_salt BYTEA[], e_leaf_hash BYTEA[],
    r_kind TEXT[], r_id TEXT[], r_version BIGINT[], r_body TEXT[],
    n_level INTEGER[], n_idx BIGINT[], n_hash BYTEA[],
    i_key TEXT[], i_request_hash TEXT[], i_response TEXT[], i_at_us BIGINT[], i_request TEXT[]
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    current_head BIGINT;
    new_head BIGINT := expected_head + COALESCE(array_length(e_seq, 1), 0);
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT COALESCE(MAX(seq), 0) INTO current_head FROM events;
    IF current_head <> expected_head THEN
        RETURN FALSE;
    END IF;
    INSERT INTO events (seq, at_us, actor, kind, body, salt, leaf_hash)
        SELECT * FROM UNNEST(e_seq, e_at_us, e_actor, e_kind, e_body, e_salt, e_leaf_hash);
    INSERT INTO records (kind, id, version, body, last_seq)
        SELECT r.kind, r.id, r.version, r.body, new_head
        FROM UNNEST(r_kind, r_id, r_version, r_body) AS r (kind, id, version, body)
        ON CONFLICT (kind, id) DO UPDATE
            SET version = excluded.version, body = excluded.body, last_seq = excluded.last_seq;
    INSERT INTO tree_nodes (level, idx, hash) SELECT * FROM UNNEST(n_level, n_idx, n_hash);
    INSERT INTO idempotency (key, request_hash, response, at_us, request)
        SELECT * FROM UNNEST(i_key, i_request_hash, i_response, i_at_us, i_request);
    RETURN TRUE;
END
$$;
