-- Sign-in data, kept beside the ledger and never in it: credentials (argon2id hashes), sessions
-- and API tokens (SHA-256 of the secret), each a JSON body by kind and id.
CREATE TABLE secrets (
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    body  TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT, WITHOUT ROWID;

-- Every read of confidential data and every denied request. Append-only.
CREATE TABLE access_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_us       INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    rows        INTEGER NOT NULL CHECK (rows >= 0),
    request_id  TEXT    NOT NULL
) STRICT;

CREATE TRIGGER access_log_is_append_only_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: UPDATE is refused');
END;

CREATE TRIGGER access_log_is_append_only_delete BEFORE DELETE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: DELETE is refused');
END;
