-- Every save of a module's patch is a new immutable version (updates are refused by
-- a trigger; see store::hardening).
CREATE TABLE module_versions (
    module_id      TEXT NOT NULL REFERENCES ai_modules (id),
    number         BIGINT NOT NULL,
    patch          TEXT NOT NULL,
    -- SHA-256 of the canonical patch JSON: what a review binds to.
    content_hash   TEXT NOT NULL,
    author         TEXT NOT NULL,
    parent_version BIGINT,
    message        TEXT NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('ai', 'manual', 'restore')),
    -- The request, for versions a model wrote.
    prompt         TEXT,
    -- The model configuration that wrote it (name at the time).
    model          TEXT,
    -- The validation report of DESIGN §4 (JSON).
    report         TEXT NOT NULL,
    level          TEXT NOT NULL,
    valid          BOOLEAN NOT NULL,
    -- L1 versions need no confirmation; L2 ones need a person's (confirmL2 on save,
    -- or a confirmation row for one a model wrote).
    needs_confirmation BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (module_id, number)
);

-- A person's confirmation of an L2 version a model wrote (versions stay immutable).
CREATE TABLE module_version_confirmations (
    module_id    TEXT NOT NULL,
    number       BIGINT NOT NULL,
    confirmed_by TEXT NOT NULL,
    confirmed_at BIGINT NOT NULL,
    PRIMARY KEY (module_id, number),
    FOREIGN KEY (module_id, number) REFERENCES module_versions (module_id, number)
);
