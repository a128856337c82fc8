-- AI model configurations, and the modules that use them.

CREATE TABLE model_config (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    provider        TEXT NOT NULL,
    base_url        TEXT NOT NULL,
    model           TEXT NOT NULL,
    -- AES-256-GCM under a key derived from the instance secret, bound to the row id;
    -- never the key itself. The mask is what pages may show.
    api_key_enc     TEXT,
    api_key_mask    TEXT,
    -- {"temperature", "maxTokens", "timeoutMs", "retries"}
    params          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    is_default      BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL DEFAULT 'untested'
                    CHECK (status IN ('untested', 'ok', 'failing')),
    last_test_at    BIGINT,
    last_latency_ms BIGINT,
    -- The last connection test's result as JSON (never a key).
    last_result     TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- At most one default; the application keeps it at exactly one.
CREATE UNIQUE INDEX model_config_one_default ON model_config (is_default) WHERE is_default;

-- Modules written by a model (development, review and publication build on this).
CREATE TABLE ai_modules (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    slug            TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    -- NULL: the default model.
    model_id        TEXT REFERENCES model_config (id),
    owner           TEXT NOT NULL,
    current_version BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ai_modules_model ON ai_modules (model_id);
