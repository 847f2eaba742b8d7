-- 002: DNS blocklist checks (`dlvstats blocklists check`) and mailbox-provider signals.
-- blocklists gains where an event came from: a check fills zone, return_code and meaning; an
-- ingested `blocklists` file leaves them NULL (its source is its drop_id).
ALTER TABLE blocklists ADD COLUMN zone VARCHAR;
ALTER TABLE blocklists ADD COLUMN return_code VARCHAR;
ALTER TABLE blocklists ADD COLUMN meaning VARCHAR;

-- One row per DNS blocklist answer (the cache and the audit trail of `blocklists check`).
-- status: listed | not_listed | unknown (the list refused the query, answered with a policy
-- code, or did not answer). expires_at = checked_at + the answer's TTL: until then the answer
-- is reused instead of asking again.
CREATE TABLE IF NOT EXISTS blocklist_lookups (
    checked_at TIMESTAMP NOT NULL,
    target VARCHAR NOT NULL,
    target_kind VARCHAR NOT NULL,
    blocklist VARCHAR NOT NULL,
    zone VARCHAR NOT NULL,
    resolver VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    return_code VARCHAR,
    meaning VARCHAR,
    ttl_seconds INTEGER NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- Google Postmaster Tools (API v2 domainStats): one row per domain, day and metric.
-- metric is dlvstats' name (spam_rate, ...); source_metric the name in the file.
CREATE TABLE IF NOT EXISTS gpt_domain_stats (
    domain VARCHAR NOT NULL,
    day DATE NOT NULL,
    metric VARCHAR NOT NULL,
    source_metric VARCHAR NOT NULL,
    value DOUBLE,
    value_text VARCHAR,  -- stringValue / stringList answers (e.g. feedback_loop_id)
    file VARCHAR NOT NULL,
    imported_at TIMESTAMP NOT NULL
);

-- Microsoft SNDS data export: one row per IP and activity period (a day).
CREATE TABLE IF NOT EXISTS snds_ip_days (
    ip VARCHAR NOT NULL,
    activity_start TIMESTAMP NOT NULL,
    activity_end TIMESTAMP NOT NULL,
    rcpt_commands BIGINT,
    data_commands BIGINT,
    message_recipients BIGINT,
    filter_result VARCHAR,
    complaint_rate DOUBLE,       -- NULL when SNDS says "< 0.1%" (under its reporting floor)
    complaint_rate_text VARCHAR, -- SNDS's own text, e.g. "< 0.1%" or "0.4%"
    trap_start TIMESTAMP,
    trap_end TIMESTAMP,
    trap_hits BIGINT,
    sample_helo VARCHAR,
    file VARCHAR NOT NULL,
    line BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL
);

-- One row per `dlvstats watch` run: the next run looks at the days since through_ts.
CREATE TABLE IF NOT EXISTS watch_runs (
    ran_at TIMESTAMP NOT NULL,
    from_ts TIMESTAMP NOT NULL,
    through_ts TIMESTAMP NOT NULL,
    alerts INTEGER NOT NULL
);
