-- The Merkle tree over the events: every complete subtree (2^level leaves from leaf
-- idx * 2^level), written in the same transaction as the events that complete it. Append-only.
CREATE TABLE tree_nodes (
    level  INTEGER NOT NULL CHECK (level >= 0 AND level < 64),
    idx    INTEGER NOT NULL CHECK (idx >= 0),
    hash   BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER tree_nodes_are_append_only_update BEFORE UPDATE ON tree_nodes
BEGIN
    SELECT RAISE(ABORT, 'tree nodes are append-only: UPDATE is refused');
END;

CREATE TRIGGER tree_nodes_are_append_only_delete BEFORE DELETE ON tree_nodes
BEGIN
    SELECT RAISE(ABORT, 'tree nodes are append-only: DELETE is refused');
END;

-- Signed checkpoints (C2SP tlog-checkpoint notes), one per tree size. Append-only.
CREATE TABLE checkpoints (
    size   INTEGER PRIMARY KEY NOT NULL CHECK (size >= 0),
    root   BLOB    NOT NULL CHECK (length(root) = 32),
    note   TEXT    NOT NULL,
    at_us  INTEGER NOT NULL
) STRICT;

CREATE TRIGGER checkpoints_are_append_only_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE is refused');
END;

CREATE TRIGGER checkpoints_are_append_only_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE is refused');
END;

-- Installation settings, such as the checkpoint verifier key.
CREATE TABLE settings (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
) STRICT;
