-- Test runs of module versions: the CRM suite plus the module's own scenarios.
CREATE TABLE ai_module_tests (
    id              TEXT PRIMARY KEY,
    module_id       TEXT NOT NULL REFERENCES ai_modules (id),
    version         BIGINT NOT NULL,
    -- passed | failed (a scenario failed) | error (the suite could not run)
    status          TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'error')),
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    passed          BIGINT NOT NULL,
    failed          BIGINT NOT NULL,
    module_coverage DOUBLE PRECISION,
    spec_coverage   DOUBLE PRECISION,
    ready           BOOLEAN NOT NULL,
    -- The full report (JSON), or the error.
    report          TEXT NOT NULL,
    started_by      TEXT NOT NULL
);
CREATE INDEX ai_module_tests_module ON ai_module_tests (module_id, started_at);

CREATE TABLE ai_module_test_results (
    run_id   TEXT NOT NULL REFERENCES ai_module_tests (id),
    position BIGINT NOT NULL,
    scenario TEXT NOT NULL,
    object   TEXT NOT NULL,
    source   TEXT NOT NULL,
    status   TEXT NOT NULL,
    error    TEXT,
    PRIMARY KEY (run_id, position)
);
