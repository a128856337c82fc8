-- Automatic numbers (`autoNumber` fields): the last number handed out per object and
-- field. An upsert with RETURNING takes the next one atomically on both backends, so
-- concurrent creates on several replicas never share a number; a failed create leaves
-- a gap, which numbering tolerates.
CREATE TABLE record_counters (
    object     TEXT NOT NULL,
    field      TEXT NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (object, field)
);
