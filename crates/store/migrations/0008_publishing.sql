-- Publishing: which module versions make up the live spec, in what order; the
-- releases of each module; the set behind each spec version (for restore); and the
-- first answers of retried requests (Idempotency-Key).

CREATE TABLE published_modules (
    module_id      TEXT PRIMARY KEY REFERENCES ai_modules (id),
    version        BIGINT NOT NULL,
    content_hash   TEXT NOT NULL,
    -- Order of application on the base CRM; kept when another version replaces it.
    position       BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('published', 'unpublished')),
    release        TEXT NOT NULL,
    published_by   TEXT NOT NULL,
    published_at   BIGINT NOT NULL,
    unpublished_by TEXT,
    unpublished_at BIGINT,
    -- The spec version the last action produced.
    spec_version   BIGINT NOT NULL,
    FOREIGN KEY (module_id, version) REFERENCES module_versions (module_id, number)
);

CREATE TABLE module_releases (
    id           TEXT PRIMARY KEY,
    module_id    TEXT NOT NULL REFERENCES ai_modules (id),
    version      BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    release      TEXT NOT NULL,
    changelog    TEXT NOT NULL,
    -- publish | rollback | restore
    action       TEXT NOT NULL,
    by_user      TEXT NOT NULL,
    at           BIGINT NOT NULL,
    spec_version BIGINT NOT NULL
);
CREATE INDEX module_releases_module ON module_releases (module_id, at);

-- The published set each spec version was composed from.
CREATE TABLE spec_version_modules (
    spec_version BIGINT NOT NULL,
    position     BIGINT NOT NULL,
    module_id    TEXT NOT NULL,
    version      BIGINT NOT NULL,
    PRIMARY KEY (spec_version, module_id)
);

CREATE TABLE idempotency_keys (
    user_id    TEXT NOT NULL,
    key        TEXT NOT NULL,
    -- What the key was used for (method and path); another use is refused.
    request    TEXT NOT NULL,
    status     BIGINT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
