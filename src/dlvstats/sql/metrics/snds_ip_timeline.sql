-- snds_ip_timeline: Microsoft SNDS's view of each sending IP beside dlvstats' figures and listings.
-- Grain: one row per (ip, day) in [$date_from, $date_to) with an SNDS row (day = the date of its
--        activity start, as SNDS writes it) or messages sent from the IP.
-- Needs: __blocklist_periods (relations/blocklist_periods.sql).
-- Parameters: $date_from, $date_to, $account_id (dlvstats' figures of that account only; SNDS's are
--   the whole IP's).
-- Rules: microsoft_delivered = delivered messages to Microsoft recipients (Outlook, Hotmail, Live);
--   listed_on = the blocklists the IP was listed on at any time that day (NULL = none).
-- Public columns: ip, day, snds_filter (GREEN/YELLOW/RED), snds_complaint_rate (NULL when SNDS says
--   "< 0.1%"), snds_complaint_rate_text, snds_trap_hits, snds_rcpt_commands, sends, microsoft_delivered,
--   complaint_rate__num / complaint_rate__den (all providers), listed_on.
WITH snds AS (
    SELECT ip, CAST(activity_start AS DATE) AS day, filter_result AS snds_filter, complaint_rate AS snds_complaint_rate,
           complaint_rate_text AS snds_complaint_rate_text, trap_hits AS snds_trap_hits, rcpt_commands AS snds_rcpt_commands
    FROM snds_ip_days
    WHERE dlv_in_period(activity_start, $date_from, $date_to)
),
ours AS (
    SELECT sending_ip AS ip, CAST(sent_at AS DATE) AS day, count(*) AS sends,
           count(*) FILTER (is_delivered AND provider = 'microsoft') AS microsoft_delivered,
           count(*) FILTER (is_delivered AND has_complaint) AS complaint_rate__num,
           count(*) FILTER (is_delivered) AS complaint_rate__den
    FROM message_facts
    WHERE dlv_in_period(sent_at, $date_from, $date_to) AND sending_ip IS NOT NULL
      AND dlv_of_account(account_id, $account_id)
    GROUP BY ALL
),
days AS (
    SELECT coalesce(s.ip, o.ip) AS ip, coalesce(s.day, o.day) AS day, s.* EXCLUDE (ip, day),
           coalesce(o.sends, 0) AS sends, coalesce(o.microsoft_delivered, 0) AS microsoft_delivered,
           coalesce(o.complaint_rate__num, 0) AS complaint_rate__num, coalesce(o.complaint_rate__den, 0) AS complaint_rate__den
    FROM snds AS s FULL JOIN ours AS o ON o.ip = s.ip AND o.day = s.day
)
SELECT d.*, (SELECT string_agg(DISTINCT p.blocklist, ', ' ORDER BY p.blocklist) FROM __blocklist_periods AS p
             WHERE p.target = d.ip AND p.listed_at < d.day + INTERVAL 1 DAY
               AND (p.delisted_at IS NULL OR p.delisted_at >= d.day)) AS listed_on
FROM days AS d
ORDER BY ip, day;
