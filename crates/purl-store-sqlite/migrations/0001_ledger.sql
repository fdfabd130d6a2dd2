-- The ledger: one row per event, append-only. The hash covers `body` and `salt`; the other
-- columns repeat what the body says, for queries, and `purl verify` checks they agree.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY NOT NULL CHECK (seq > 0),
    at_us      INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    body       BLOB    NOT NULL,
    salt       BLOB    NOT NULL,
    leaf_hash  BLOB    NOT NULL
) STRICT;

CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is refused');
END;

CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is refused');
END;

-- The read side: every object as canonical JSON, projected from the events in the same
-- transaction. `purl verify` rebuilds it from the events and compares.
CREATE TABLE records (
    kind      TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    body      TEXT    NOT NULL,
    last_seq  INTEGER NOT NULL REFERENCES events (seq),
    PRIMARY KEY (kind, id)
) STRICT;

-- First answers to writes that carried an idempotency key.
CREATE TABLE idempotency (
    key           TEXT    PRIMARY KEY NOT NULL,
    request_hash  TEXT    NOT NULL,
    response      TEXT    NOT NULL,
    at_us         INTEGER NOT NULL
) STRICT;
