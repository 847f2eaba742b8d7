-- blocklists/targets: the sending IPs and domains `dlvstats blocklists check` looks up.
-- Grain: one row per distinct target (an IP from sends.sending_ip, a domain from
--        sends.sending_domain) used in the $since_days days before the latest send in the database
--        (the window follows the data, so a database loaded weekly still covers its latest drop).
-- Parameters: $since_days.
-- Columns: target, target_kind (ip | domain), sends (messages sent from it in the window),
--          last_sent_at.
WITH window_end AS (SELECT max(sent_at) AS hi FROM sends),
recent AS (
    SELECT sending_ip, sending_domain, sent_at FROM sends, window_end
    WHERE sent_at > hi - to_days(CAST($since_days AS INTEGER))
)
SELECT sending_ip AS target, 'ip' AS target_kind, count(*) AS sends, max(sent_at) AS last_sent_at
FROM recent WHERE sending_ip IS NOT NULL GROUP BY sending_ip
UNION ALL
SELECT lower(sending_domain), 'domain', count(*), max(sent_at)
FROM recent WHERE sending_domain IS NOT NULL GROUP BY lower(sending_domain)
ORDER BY target_kind DESC, target;
