-- The ledger, the read side, idempotency results, the Merkle tree, checkpoints and settings: the
-- same tables as the SQLite backend. Events, tree nodes and checkpoints are append-only.
CREATE FUNCTION purl_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are append-only: % is refused', TG_TABLE_NAME, TG_OP;
END
$$;

CREATE TABLE events (
    seq        BIGINT PRIMARY KEY CHECK (seq > 0),
    at_us      BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    body       BYTEA  NOT NULL,
    salt       BYTEA  NOT NULL,
    leaf_hash  BYTEA  NOT NULL
);
CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION purl_refuse_change();
CREATE TRIGGER events_are_not_truncated BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION purl_refuse_change();

CREATE TABLE records (
    kind      TEXT   NOT NULL,
    id        TEXT   NOT NULL,
    version   BIGINT NOT NULL,
    body      TEXT   NOT NULL,
    last_seq  BIGINT NOT NULL REFERENCES events (seq),
    PRIMARY KEY (kind, id)
);

CREATE TABLE idempotency (
    key           TEXT   PRIMARY KEY,
    request_hash  TEXT   NOT NULL,
    response      TEXT   NOT NULL,
    at_us         BIGINT NOT NULL
);

CREATE TABLE tree_nodes (
    level  INTEGER NOT NULL CHECK (level >= 0 AND level < 64),
    idx    BIGINT  NOT NULL CHECK (idx >= 0),
    hash   BYTEA   NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);
CREATE TRIGGER tree_nodes_are_append_only BEFORE UPDATE OR DELETE ON tree_nodes
    FOR EACH ROW EXECUTE FUNCTION purl_refuse_change();
CREATE TRIGGER tree_nodes_are_not_truncated BEFORE TRUNCATE ON tree_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION purl_refuse_change();

CREATE TABLE checkpoints (
    size   BIGINT PRIMARY KEY CHECK (size >= 0),
    root   BYTEA  NOT NULL CHECK (length(root) = 32),
    note   TEXT   NOT NULL,
    at_us  BIGINT NOT NULL
);
CREATE TRIGGER checkpoints_are_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION purl_refuse_change();
CREATE TRIGGER checkpoints_are_not_truncated BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION purl_refuse_change();

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
