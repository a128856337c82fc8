-- Reviews of module versions, their comment threads, and the notifications (in-app,
-- webhook, email) that status changes send.

CREATE TABLE ai_module_reviews (
    id           TEXT PRIMARY KEY,
    module_id    TEXT NOT NULL REFERENCES ai_modules (id),
    version      BIGINT NOT NULL,
    -- The version's content hash when it was submitted: what an approval binds to.
    content_hash TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN
                 ('pending', 'reviewing', 'approved', 'rejected', 'withdrawn', 'superseded')),
    submitted_by TEXT NOT NULL,
    note         TEXT NOT NULL,
    -- Usernames, JSON array; empty: any reviewer may decide.
    reviewers    TEXT NOT NULL,
    -- The test run whose report is attached, and its module coverage.
    test_run_id  TEXT REFERENCES ai_module_tests (id),
    coverage     DOUBLE PRECISION,
    -- approved | rejected, with the reviewer's note or reason.
    decision     TEXT CHECK (decision IN ('approved', 'rejected')),
    reason       TEXT,
    decided_by   TEXT,
    decided_at   BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    FOREIGN KEY (module_id, version) REFERENCES module_versions (module_id, number)
);
CREATE INDEX ai_module_reviews_module ON ai_module_reviews (module_id, created_at);
CREATE INDEX ai_module_reviews_status ON ai_module_reviews (status, created_at);
-- A module has at most one open review.
CREATE UNIQUE INDEX ai_module_reviews_open ON ai_module_reviews (module_id)
    WHERE status IN ('pending', 'reviewing');

CREATE TABLE review_comments (
    id          TEXT PRIMARY KEY,
    review_id   TEXT NOT NULL REFERENCES ai_module_reviews (id),
    author      TEXT NOT NULL,
    -- Markdown as written; rendered (without raw HTML) when shown.
    body        TEXT NOT NULL,
    -- The index of the patch operation the comment is about, if any.
    operation   BIGINT,
    reply_to    TEXT REFERENCES review_comments (id),
    resolved    BOOLEAN NOT NULL,
    resolved_by TEXT,
    resolved_at BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX review_comments_review ON review_comments (review_id, created_at);

-- In-app notifications, one row per recipient.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    event_id   TEXT NOT NULL,
    event      TEXT NOT NULL,
    -- The event payload (JSON) as webhooks receive it.
    payload    TEXT NOT NULL,
    read_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);

-- A user's choice for one event on one channel (in_app, email); absent: on.
CREATE TABLE notification_preferences (
    user_id TEXT NOT NULL REFERENCES users (id),
    event   TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('in_app', 'email')),
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, event, channel)
);

CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    -- Event names, JSON array; empty: every event.
    events      TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    -- The signing secret, sealed under the instance secret; the previous one stays
    -- valid (deliveries carry both signatures) until previous_until.
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    previous_until  BIGINT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The outbox: one row per event and destination (a webhook, or a user's address),
-- written in the transaction of the state change and sent by the delivery workers.
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL,
    event       TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    webhook_id  TEXT REFERENCES webhooks (id) ON DELETE CASCADE,
    recipient   TEXT,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts    BIGINT NOT NULL,
    next_at     BIGINT NOT NULL,
    -- A worker's claim: it alone sends until lease_until.
    lease_owner TEXT,
    lease_until BIGINT,
    last_status BIGINT,
    last_error  TEXT,
    created_at  BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX deliveries_due ON deliveries (status, next_at);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, created_at);

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    status_code BIGINT,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
