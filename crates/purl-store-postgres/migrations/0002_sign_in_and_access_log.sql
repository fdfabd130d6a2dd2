-- Sign-in data, kept beside the ledger and never in it: credentials (argon2id hashes), sessions
-- and API tokens (SHA-256 of the secret), each a JSON body by kind and id.
CREATE TABLE secrets (
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    body  TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- Every read of confidential data and every denied request. Append-only.
CREATE TABLE access_log (
    seq         BIGSERIAL PRIMARY KEY,
    at_us       BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    outcome     TEXT   NOT NULL,
    rows        BIGINT NOT NULL CHECK (rows >= 0),
    request_id  TEXT   NOT NULL
);
CREATE TRIGGER access_log_is_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION purl_refuse_change();
CREATE TRIGGER access_log_is_not_truncated BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION purl_refuse_change();
