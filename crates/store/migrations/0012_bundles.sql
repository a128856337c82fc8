-- Moving modules between instances (docs/bundles.md).

-- This instance: its id (in every bundle it signs) and its Ed25519 key pair, the
-- private key sealed under the instance secret. One row.
CREATE TABLE instance_identity (
    singleton       TEXT PRIMARY KEY CHECK (singleton = 'instance'),
    instance_id     TEXT NOT NULL,
    public_key      TEXT NOT NULL,
    private_key_enc TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- Public keys of the instances whose bundles this one accepts.
CREATE TABLE trusted_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL UNIQUE,
    added_by   TEXT NOT NULL,
    added_at   BIGINT NOT NULL
);

-- Where an imported module came from ({"instanceId", "moduleId"}, JSON): a later
-- bundle of the same module becomes a new version of it.
ALTER TABLE ai_modules ADD COLUMN origin TEXT;
-- What a bundle said of an imported version's making (author, models, prompts,
-- source instance; JSON). Such versions are saved as `manual`: a person imported them.
ALTER TABLE module_versions ADD COLUMN imported TEXT;
