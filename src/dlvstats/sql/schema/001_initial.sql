-- Schema version 1: the canonical tables (one per kind of docs/canonical-logs.md) plus
-- bookkeeping. Grain and keys are stated per table; docs/schema.md documents every column.
-- Rules: every timestamp is UTC (TIMESTAMP without zone, UTC by rule); recipients are trimmed and
-- lower-cased; natural keys are enforced by the loader (anti-join), not by constraints, so that
-- loads stay fast at ESP scale.

CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);

-- One row per load: what was read, from where, and how it was accounted for.
CREATE TABLE IF NOT EXISTS drops (
    drop_id INTEGER,
    loaded_at TIMESTAMP,
    paths VARCHAR,
    input_format VARCHAR,
    timezone VARCHAR,
    on_error VARCHAR,
    summary_json VARCHAR
);

-- One row per message handed to the MTA (one recipient). Key: message_id.
CREATE TABLE IF NOT EXISTS sends (
    message_id VARCHAR NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    account_id VARCHAR NOT NULL,
    list_id VARCHAR NOT NULL,
    campaign_id VARCHAR NOT NULL,
    recipient VARCHAR NOT NULL,
    recipient_domain VARCHAR,
    provider VARCHAR,
    status VARCHAR NOT NULL,
    delivered_at TIMESTAMP,
    bounce_class VARCHAR,
    smtp_code INTEGER,
    enhanced_status VARCHAR,
    bounce_reason VARCHAR,
    sending_ip VARCHAR,
    sending_domain VARCHAR,
    drop_id INTEGER
);

-- One row per tracking-pixel fetch. Key: event_key.
CREATE TABLE IF NOT EXISTS opens (
    event_key UUID NOT NULL,
    message_id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    user_agent VARCHAR,
    ip VARCHAR,
    event_id VARCHAR,
    is_machine BOOLEAN,
    actor VARCHAR,
    actor_rule VARCHAR,
    drop_id INTEGER
);

-- One row per tracked-link redirect. Key: event_key.
CREATE TABLE IF NOT EXISTS clicks (
    event_key UUID NOT NULL,
    message_id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    url VARCHAR,
    user_agent VARCHAR,
    ip VARCHAR,
    event_id VARCHAR,
    is_machine BOOLEAN,
    is_unsubscribe_link BOOLEAN,
    actor VARCHAR,
    actor_rule VARCHAR,
    drop_id INTEGER
);

-- One row per spam complaint. Key: event_key = (message_id or recipient, ts, source).
CREATE TABLE IF NOT EXISTS complaints (
    event_key UUID NOT NULL,
    ts TIMESTAMP NOT NULL,
    message_id VARCHAR,
    recipient VARCHAR,
    account_id VARCHAR,
    source VARCHAR,
    drop_id INTEGER
);

-- One row per subscribe/unsubscribe. Key: event_key = (account_id, list_id, recipient, ts, action).
CREATE TABLE IF NOT EXISTS subscriptions (
    event_key UUID NOT NULL,
    ts TIMESTAMP NOT NULL,
    account_id VARCHAR NOT NULL,
    list_id VARCHAR NOT NULL,
    recipient VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    source VARCHAR,
    campaign_id VARCHAR,
    collected_at TIMESTAMP,
    drop_id INTEGER
);

-- One row per campaign (mailing). Key: campaign_id.
CREATE TABLE IF NOT EXISTS campaigns (
    campaign_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    list_id VARCHAR NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,
    name VARCHAR,
    subject VARCHAR,
    drop_id INTEGER
);

-- One row per purchase. Key: (account_id, order_id).
CREATE TABLE IF NOT EXISTS orders (
    ts TIMESTAMP NOT NULL,
    account_id VARCHAR NOT NULL,
    recipient VARCHAR NOT NULL,
    order_id VARCHAR NOT NULL,
    amount DECIMAL(18, 4) NOT NULL,
    campaign_id VARCHAR,
    drop_id INTEGER
);

-- One row per blocklist listing or delisting. Key: event_key = (target, blocklist, ts, action).
CREATE TABLE IF NOT EXISTS blocklists (
    event_key UUID NOT NULL,
    ts TIMESTAMP NOT NULL,
    target VARCHAR NOT NULL,
    blocklist VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    drop_id INTEGER
);

-- One row per input row refused under --on-error quarantine.
CREATE TABLE IF NOT EXISTS rejects (
    drop_id INTEGER,
    file VARCHAR,
    line BIGINT,
    kind VARCHAR,
    reason VARCHAR,
    raw VARCHAR
);

-- Mailbox-provider mapping: exact domains and label patterns ('hotmail.*'). source = 'default'
-- (shipped with dlvstats), 'user' (added by the analyst) or 'mx' (proposed by an MX lookup).
CREATE TABLE IF NOT EXISTS provider_domains (
    domain_pattern VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    source VARCHAR NOT NULL
);
