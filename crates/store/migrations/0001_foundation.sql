-- Portable SQL: the same file runs on SQLite and PostgreSQL. Times are unix
-- milliseconds (BIGINT) so that ordering and comparison mean the same on both;
-- ids are text (UUIDs made by the application); JSON is stored as text.

CREATE TABLE platform_roles (
    name  TEXT PRIMARY KEY,
    label TEXT NOT NULL
);

CREATE TABLE role_permissions (
    role       TEXT NOT NULL REFERENCES platform_roles (name),
    permission TEXT NOT NULL,
    PRIMARY KEY (role, permission)
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    email          TEXT,
    password_hash  TEXT NOT NULL,
    business_roles TEXT NOT NULL DEFAULT '[]',
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL REFERENCES platform_roles (name),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Keyed by the name typed at login, whether or not such a user exists, so that
-- throttling never tells an attacker which names are real.
CREATE TABLE login_attempts (
    username         TEXT PRIMARY KEY,
    failures         BIGINT NOT NULL,
    first_failure_at BIGINT NOT NULL,
    locked_until     BIGINT
);

CREATE TABLE menu_items (
    id         TEXT PRIMARY KEY,
    parent_id  TEXT REFERENCES menu_items (id),
    label      TEXT NOT NULL,
    path       TEXT,
    icon       TEXT,
    sort_order BIGINT NOT NULL,
    permission TEXT,
    visible    BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at BIGINT NOT NULL
);

CREATE TABLE audit_logs (
    seq           BIGINT PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor         TEXT,
    action        TEXT NOT NULL,
    resource_type TEXT,
    resource_id   TEXT,
    outcome       TEXT NOT NULL,
    details       TEXT NOT NULL,
    request_id    TEXT,
    client_addr   TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_logs_at ON audit_logs (at);
CREATE INDEX audit_logs_action ON audit_logs (action);
CREATE INDEX audit_logs_actor ON audit_logs (actor);
