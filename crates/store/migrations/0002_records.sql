-- CRM records as documents (DESIGN §6): one row per record, its field values as JSON
-- text. A field that leaves the live spec stays in `data`, hidden, and returns with it.
CREATE TABLE records (
    object     TEXT NOT NULL,
    id         TEXT NOT NULL,
    data       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by TEXT,
    updated_by TEXT,
    PRIMARY KEY (object, id)
);
CREATE INDEX records_object_created ON records (object, created_at);

-- Unique field values, enforced by the primary key even under concurrent writers.
CREATE TABLE record_unique (
    object TEXT NOT NULL,
    field  TEXT NOT NULL,
    value  TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (object, field, value)
);
CREATE INDEX record_unique_owner ON record_unique (object, id);

-- The live spec's history: base CRM plus published patches, one row per change.
CREATE TABLE spec_versions (
    number     BIGINT PRIMARY KEY,
    content    TEXT NOT NULL,
    hash       TEXT NOT NULL,
    cause      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
