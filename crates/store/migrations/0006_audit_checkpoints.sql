-- Where the audit chain was last verified to hold: a later verification starts from
-- the newest checkpoint instead of walking every row again. (`modgate audit verify`
-- still walks them all.)
CREATE TABLE audit_checkpoints (
    seq         BIGINT PRIMARY KEY,
    hash        TEXT NOT NULL,
    verified_at BIGINT NOT NULL
);
