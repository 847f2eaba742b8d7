-- aggregates/months: the months of the reporting time zone $tz whose aggregates a refresh rebuilds,
-- as the temp table __agg_months (month_start, month_end: UTC instants, half-open).
-- Grain: one row per month of $tz holding the sent_at of a message in scope: every message of
-- message_facts when $all_months, else those in __facts_scope (the messages the drop can have
-- changed, message_facts_scope.sql): a late event, a settled deferral or a complaint of an old
-- message puts that old month in scope again.
-- Rules: months are cut in $tz (Europe/Paris: November 2026 is [2026-10-31 23:00, 2026-11-30 23:00)
-- UTC), as metrics.common.Period.month cuts them. Needs __facts_scope on this connection.
-- Parameters: $tz (IANA name), $all_months (BOOLEAN).
CREATE OR REPLACE TEMP TABLE __agg_months AS
WITH local_months AS (
    SELECT DISTINCT date_trunc('month', CASE WHEN $tz = 'UTC' THEN sent_at
                                            ELSE timezone($tz, timezone('UTC', sent_at)) END) AS local_month
    FROM message_facts
    WHERE $all_months OR message_id IN (SELECT message_id FROM __facts_scope)
)
SELECT CASE WHEN $tz = 'UTC' THEN local_month ELSE timezone('UTC', timezone($tz, local_month)) END AS month_start,
       CASE WHEN $tz = 'UTC' THEN local_month + INTERVAL 1 MONTH
            ELSE timezone('UTC', timezone($tz, local_month + INTERVAL 1 MONTH)) END AS month_end
FROM local_months;
