-- The usage ledger and the client keys (PostgreSQL).
CREATE TABLE usage_rows (
    id BIGSERIAL PRIMARY KEY,
    ts_ms BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    client TEXT NOT NULL,
    client_key_id TEXT,
    provider TEXT,
    upstream_key_id TEXT,
    model_requested TEXT,
    model_sent TEXT,
    status BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    stream BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    cost_usd DOUBLE PRECISION,
    duration_ms DOUBLE PRECISION NOT NULL,
    ttfb_ms DOUBLE PRECISION NOT NULL,
    attempts BIGINT NOT NULL,
    failovers BIGINT NOT NULL
);
CREATE INDEX usage_rows_ts ON usage_rows (ts_ms);
CREATE INDEX usage_rows_key_ts ON usage_rows (client_key_id, ts_ms);

CREATE TABLE client_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    expires_ms BIGINT,
    revoked_ms BIGINT,
    models TEXT NOT NULL,
    rpm_limit BIGINT,
    daily_usd DOUBLE PRECISION,
    weekly_usd DOUBLE PRECISION,
    monthly_usd DOUBLE PRECISION
);
-- A name is unique among live keys; a revoked key's name may be reused.
CREATE UNIQUE INDEX client_keys_live_name ON client_keys (name) WHERE revoked_ms IS NULL;
