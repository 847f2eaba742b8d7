-- Sender health's cell counts (a temporary macro: created on every dlvstats connection by
-- db.session_settings, never stored in the database file).
-- dlv_health_counts(n_sends, ..., b_other): an aggregate over one row per person of a cell (the
--   per-person counts of metrics/sender_health.sql and aggregates/health_cells.sql, passed by their
--   names there). Returns a STRUCT of the cell's counts, each a BIGINT, in the column order of
--   sender_health: {recipients: persons, sends: Σn_sends, delivered: Σn_delivered, complaints,
--   delivered_fbl, complaints_fbl, gmail_delivered, bounces, hard_bounces, soft_bounces,
--   bounces_<category> for invalid_mailbox, bad_domain, mailbox_full, policy_block, content, other}.
--   A file spreads it into those columns with COLUMNS(c.*) AS '\0' from a CTE holding it as column c.
-- The Spark engine has no DuckDB macros: its translator (dlvstats.spark.macros) writes this one out
-- inline, and its spread as c.recipients AS recipients, ... (the struct's fields, in order).
CREATE OR REPLACE TEMP MACRO dlv_health_counts(n_sends, n_delivered, n_delivered_fbl, n_delivered_gmail,
                                               y_complaints, y_complaints_fbl, y_bounces, y_hard, y_soft,
                                               b_invalid_mailbox, b_bad_domain, b_mailbox_full, y_block,
                                               b_content, b_other) AS
    struct_pack(recipients := count(*),
                sends := CAST(sum(n_sends) AS BIGINT), delivered := CAST(sum(n_delivered) AS BIGINT),
                complaints := CAST(sum(y_complaints) AS BIGINT),
                delivered_fbl := CAST(sum(n_delivered_fbl) AS BIGINT),
                complaints_fbl := CAST(sum(y_complaints_fbl) AS BIGINT),
                gmail_delivered := CAST(sum(n_delivered_gmail) AS BIGINT),
                bounces := CAST(sum(y_bounces) AS BIGINT), hard_bounces := CAST(sum(y_hard) AS BIGINT),
                soft_bounces := CAST(sum(y_soft) AS BIGINT),
                bounces_invalid_mailbox := CAST(sum(b_invalid_mailbox) AS BIGINT),
                bounces_bad_domain := CAST(sum(b_bad_domain) AS BIGINT),
                bounces_mailbox_full := CAST(sum(b_mailbox_full) AS BIGINT),
                bounces_policy_block := CAST(sum(y_block) AS BIGINT),
                bounces_content := CAST(sum(b_content) AS BIGINT),
                bounces_other := CAST(sum(b_other) AS BIGINT));
