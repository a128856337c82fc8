-- Model operations: fallback chains, prices, usage with costs, budgets and
-- evaluations (docs/model-operations.md).

-- Ordered ids of the models that answer when this one fails (JSON array).
ALTER TABLE model_config ADD COLUMN fallback_model_ids TEXT NOT NULL DEFAULT '[]';
-- {"input", "cachedInput", "output", "currency"} per million tokens; NULL: unpriced.
ALTER TABLE model_config ADD COLUMN prices TEXT;

-- What the generation of a version used: tokens, cost, attempts and the model that
-- answered (JSON); NULL for versions written by hand.
ALTER TABLE module_versions ADD COLUMN generation TEXT;

-- One row per model call, kept when the model or the module is gone: usage pages,
-- budgets and the module's cost so far read it.
CREATE TABLE model_usage (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    model_id    TEXT NOT NULL,
    model_name  TEXT NOT NULL,
    user_id     TEXT,
    username    TEXT,
    module_id   TEXT,
    -- generate | eval
    purpose     TEXT NOT NULL,
    -- ok, or the error kind (timeout, rate_limited, …)
    outcome     TEXT NOT NULL,
    tokens_in   BIGINT NOT NULL,
    cached_in   BIGINT NOT NULL,
    tokens_out  BIGINT NOT NULL,
    -- Millionths of the currency unit; 0 when the model has no prices.
    cost_micros BIGINT NOT NULL,
    currency    TEXT,
    latency_ms  BIGINT NOT NULL
);
CREATE INDEX model_usage_at ON model_usage (at);
CREATE INDEX model_usage_model_at ON model_usage (model_id, at);
CREATE INDEX model_usage_module ON model_usage (module_id);

-- Monthly limits, per model (model_id) or over all models (NULL).
CREATE TABLE model_budgets (
    id                TEXT PRIMARY KEY,
    model_id          TEXT,
    period            TEXT NOT NULL CHECK (period IN ('month')),
    limit_tokens      BIGINT,
    limit_cost_micros BIGINT,
    currency          TEXT NOT NULL,
    -- The period ('2026-12') whose 80% warning went out, so it goes out once.
    warned_period     TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- Evaluation runs of a model over a corpus; the newest per model is shown.
CREATE TABLE model_evals (
    id          TEXT PRIMARY KEY,
    model_id    TEXT NOT NULL,
    model_name  TEXT NOT NULL,
    corpus      TEXT NOT NULL,
    started_by  TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- The totals (JSON) and the per-request results (JSON array).
    summary     TEXT NOT NULL,
    results     TEXT NOT NULL
);
CREATE INDEX model_evals_model ON model_evals (model_id, finished_at);
