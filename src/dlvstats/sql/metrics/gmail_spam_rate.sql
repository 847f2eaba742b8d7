-- gmail_spam_rate: Gmail's own user-reported spam rate (Postmaster Tools) beside dlvstats' complaint
-- rate, per domain and day.
-- Grain: one row per (domain, day) in [$date_from, $date_to) that has a Postmaster Tools spam_rate
--        or messages sent from that domain (sending_domain equal to it or a sub-domain of it, the
--        domains being those present in gpt_domain_stats).
-- Parameters: $date_from, $date_to, $account_id (dlvstats' figures of that account only; Gmail's
--   figure is the whole domain's, whoever sent).
-- Rules: complaint = a delivered message with a complaint (all sources; Gmail sends no per-message
--   feedback loop, so complaints from Gmail users are mostly missing from dlvstats' count: that gap
--   is what Gmail's figure shows). gmail_delivered = delivered messages to Gmail recipients.
--   gpt_spam_rate NULL = no Postmaster Tools figure that day (Gmail shows none under its volume floor).
-- Public columns: domain, day, gpt_spam_rate, sends, gmail_delivered,
--   complaint_rate__num / complaint_rate__den (complaints / delivered, all providers).
WITH gpt AS (
    SELECT domain, day, value AS gpt_spam_rate FROM gpt_domain_stats
    WHERE metric = 'spam_rate' AND day >= CAST($date_from AS DATE) AND day < CAST($date_to AS DATE)
),
domains AS (SELECT DISTINCT domain FROM gpt_domain_stats),
ours AS (
    SELECT d.domain, CAST(f.sent_at AS DATE) AS day, count(*) AS sends,
           count(*) FILTER (f.is_delivered AND f.provider = 'gmail') AS gmail_delivered,
           count(*) FILTER (f.is_delivered AND f.has_complaint) AS complaint_rate__num,
           count(*) FILTER (f.is_delivered) AS complaint_rate__den
    FROM message_facts AS f
    JOIN domains AS d ON f.sending_domain = d.domain OR ends_with(f.sending_domain, '.' || d.domain)
    WHERE dlv_in_scope(f.sent_at, f.account_id, $date_from, $date_to, $account_id)
    GROUP BY ALL
)
SELECT coalesce(g.domain, o.domain) AS domain, coalesce(g.day, o.day) AS day, g.gpt_spam_rate,
       coalesce(o.sends, 0) AS sends, coalesce(o.gmail_delivered, 0) AS gmail_delivered,
       coalesce(o.complaint_rate__num, 0) AS complaint_rate__num, coalesce(o.complaint_rate__den, 0) AS complaint_rate__den
FROM gpt AS g FULL JOIN ours AS o ON o.domain = g.domain AND o.day = g.day
ORDER BY domain, day;
