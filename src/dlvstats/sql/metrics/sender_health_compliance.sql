-- sender_health_compliance: does each account stop mailing people who asked it to, and how fast?
-- Grain: one row per account with sends or unsubscribe_events in [$date_from, $date_to) (UTC), of
--        $account_id when given.
-- Needs: __bounce_category (relations/bounce_category.sql) built for every message sent before
--        $date_to (bounces before the period count).
-- Parameters: $date_from, $date_to, $account_id, $honour_hours (the rule: 48 = Gmail's and
--             Yahoo's two days), $bounce_grace_hours (a hard bounce is known this long after its
--             message was sent: later sends to the address count).
-- Rules:
--   A message is sent after an unsubscribe when the latest subscription event of its recipient on
--   its list (same account) before its sent_at is an unsubscribe, of any source (link, user,
--   complaint, bounce, moved ...): nobody should get a list's mail once off it. A later subscribe
--   to the list ends that state.
--   A message is sent after a complaint / a hard bounce when its recipient complained about an
--   earlier message of the account (complaint time) / hard-bounced on an earlier message of the
--   account (that message's sent_at + $bounce_grace_hours), with no subscribe to any list of the
--   account in between. Only hard bounces that say the address is dead count (category
--   invalid_mailbox or bad_domain): a policy block (blocklisted IP, content) says nothing of the
--   address, and mailing it again is right.
--   Time to honour an unsubscribe (people leaving: source link, user or none, at ts in the
--   period): from the unsubscribe to the last message of that list sent to the person after it
--   (before any re-subscribe), whatever the period of that message; none = honoured at once.
-- Public columns:
--   sends                             messages sent in the period
--   sent_after_unsubscribe            messages sent in the period after an unsubscribe (above)
--   sent_after_unsubscribe_rate       num = sent_after_unsubscribe, den = sends
--   sent_after_unsubscribe_over_2d    those sent more than $honour_hours after the unsubscribe
--   sent_after_unsubscribe_over_2d_rate  num = sent_after_unsubscribe_over_2d, den = sends
--   sent_after_complaint, sent_after_complaint_rate       idem for complaints, den = sends
--   sent_after_hard_bounce, sent_after_hard_bounce_rate   idem for hard bounces, den = sends
--   unsubscribe_events                      people-leaving unsubscribe_events in the period
--   unsubscribes_followed_by_send     of those, with at least one message of the list after it
--   unsubscribes_over_2d              of those, with a message more than $honour_hours after it
--   over_2d_rate                      num = unsubscribes_over_2d, den = unsubscribe_events
--   honour_hours_median, honour_hours_p95, honour_hours_max   time to the last message after
--                                     the unsubscribe, among unsubscribes_followed_by_send
-- Rates come as cluster sums R__num ... R__k over recipients (dlvstats/metrics/common.py).
WITH sub_events AS (
    SELECT account_id, list_id, recipient, ts, action, source
    FROM subscriptions
    WHERE dlv_of_account(account_id, $account_id)
),
unsub_people AS (
    SELECT DISTINCT account_id, list_id, recipient FROM sub_events WHERE action = 'unsubscribe'
),
after_unsub AS (
    -- every message (any period) whose recipient was off the list when it was sent
    SELECT s.message_id, s.account_id, s.list_id, s.recipient, s.sent_at,
           e.ts AS unsubscribed_at, e.source AS unsubscribe_source
    FROM (SELECT s.message_id, s.account_id, s.list_id, s.recipient, s.sent_at
          FROM sends AS s SEMI JOIN unsub_people USING (account_id, list_id, recipient)) AS s
    ASOF JOIN sub_events AS e
      ON e.account_id = s.account_id AND e.list_id = s.list_id AND e.recipient = s.recipient
     AND s.sent_at > e.ts
    WHERE e.action = 'unsubscribe'
),
account_events AS (
    SELECT account_id, recipient, complained_at AS ts, 'complaint' AS kind
    FROM message_facts
    WHERE complained_at IS NOT NULL AND dlv_of_account(account_id, $account_id)
    UNION ALL
    SELECT f.account_id, f.recipient, f.sent_at + to_hours(CAST($bounce_grace_hours AS BIGINT)), 'hard_bounce'
    FROM message_facts AS f
    JOIN __bounce_category AS b USING (message_id)
    WHERE f.is_hard_bounce AND b.category IN ('invalid_mailbox', 'bad_domain')
      AND dlv_of_account(f.account_id, $account_id)
    UNION ALL
    SELECT account_id, recipient, ts, 'subscribe'
    FROM sub_events WHERE action = 'subscribe'
),
complaint_state AS (
    SELECT account_id, recipient, ts, kind FROM account_events WHERE kind IN ('complaint', 'subscribe')
),
bounce_state AS (
    SELECT account_id, recipient, ts, kind FROM account_events WHERE kind IN ('hard_bounce', 'subscribe')
),
scope AS NOT MATERIALIZED (
    SELECT message_id, account_id, recipient, sent_at
    FROM sends
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
),
after_complaint AS (
    -- only people who ever complained can be mailed after a complaint: the ASOF join runs on them
    SELECT s.account_id, s.recipient, count(*) AS y
    FROM (SELECT * FROM scope
          SEMI JOIN (SELECT DISTINCT account_id, recipient FROM account_events WHERE kind = 'complaint') AS who
          USING (account_id, recipient)) AS s
    ASOF JOIN complaint_state AS c
      ON c.account_id = s.account_id AND c.recipient = s.recipient AND s.sent_at > c.ts
    WHERE c.kind = 'complaint'
    GROUP BY ALL
),
after_bounce AS (
    SELECT s.account_id, s.recipient, count(*) AS y
    FROM (SELECT * FROM scope
          SEMI JOIN (SELECT DISTINCT account_id, recipient FROM account_events WHERE kind = 'hard_bounce') AS who
          USING (account_id, recipient)) AS s
    ASOF JOIN bounce_state AS b
      ON b.account_id = s.account_id AND b.recipient = s.recipient AND s.sent_at > b.ts
    WHERE b.kind = 'hard_bounce'
    GROUP BY ALL
),
after_unsub_in_period AS (
    SELECT account_id, recipient, count(*) AS y,
           count(*) FILTER (sent_at > unsubscribed_at + to_hours(CAST($honour_hours AS BIGINT))) AS y_2d
    FROM after_unsub
    WHERE dlv_in_period(sent_at, $date_from, $date_to)
    GROUP BY ALL
),
send_people AS (
    SELECT p.account_id, p.recipient, p.n,
           coalesce(u.y, 0) AS y_unsub, coalesce(u.y_2d, 0) AS y_unsub_2d,
           coalesce(c.y, 0) AS y_complaint, coalesce(b.y, 0) AS y_bounce
    FROM (SELECT account_id, recipient, count(*) AS n FROM scope GROUP BY ALL) AS p
    LEFT JOIN after_unsub_in_period AS u USING (account_id, recipient)
    LEFT JOIN after_complaint AS c USING (account_id, recipient)
    LEFT JOIN after_bounce AS b USING (account_id, recipient)
),
unsubscribe_events AS (
    SELECT e.account_id, e.list_id, e.recipient, e.ts,
           max(u.sent_at) AS last_sent_after
    FROM sub_events AS e
    LEFT JOIN after_unsub AS u
           ON u.account_id = e.account_id AND u.list_id = e.list_id AND u.recipient = e.recipient
          AND u.unsubscribed_at = e.ts
    WHERE e.action = 'unsubscribe' AND (e.source IS NULL OR e.source IN ('link', 'user'))
      AND dlv_in_period(e.ts, $date_from, $date_to)
    GROUP BY ALL
),
unsub_hours AS (
    SELECT *, date_diff('second', ts, last_sent_after) / 3600.0 AS honour_hours
    FROM unsubscribe_events
),
unsub_people_rates AS (
    SELECT account_id, recipient, count(*) AS n,
           count(*) FILTER (honour_hours > $honour_hours) AS y
    FROM unsub_hours GROUP BY ALL
),
long AS (
    SELECT account_id, 'sent_after_unsubscribe_rate' AS rate, y_unsub AS y, n FROM send_people
    UNION ALL SELECT account_id, 'sent_after_unsubscribe_over_2d_rate', y_unsub_2d, n FROM send_people
    UNION ALL SELECT account_id, 'sent_after_complaint_rate', y_complaint, n FROM send_people
    UNION ALL SELECT account_id, 'sent_after_hard_bounce_rate', y_bounce, n FROM send_people
    UNION ALL SELECT account_id, 'over_2d_rate', y, n FROM unsub_people_rates
),
rate_sums AS (
    SELECT account_id, rate, sum(y) AS num, sum(n) AS den, sum(y * y) AS y2, sum(y * n) AS yn,
           sum(n * n) AS n2, count(*) AS k
    FROM long GROUP BY ALL
),
rates AS (
    PIVOT rate_sums
    ON rate IN ('sent_after_unsubscribe_rate', 'sent_after_unsubscribe_over_2d_rate',
                'sent_after_complaint_rate', 'sent_after_hard_bounce_rate', 'over_2d_rate')
    USING first(num) AS _num, first(den) AS _den, first(y2) AS _y2, first(yn) AS _yn,
          first(n2) AS _n2, first(k) AS _k
    GROUP BY account_id
),
send_counts AS (
    SELECT account_id, CAST(sum(n) AS BIGINT) AS sends,
           CAST(sum(y_unsub) AS BIGINT) AS sent_after_unsubscribe,
           CAST(sum(y_unsub_2d) AS BIGINT) AS sent_after_unsubscribe_over_2d,
           CAST(sum(y_complaint) AS BIGINT) AS sent_after_complaint,
           CAST(sum(y_bounce) AS BIGINT) AS sent_after_hard_bounce
    FROM send_people GROUP BY ALL
),
unsub_counts AS (
    SELECT account_id, count(*) AS unsubscribe_events,
           count(last_sent_after) AS unsubscribes_followed_by_send,
           count(*) FILTER (honour_hours > $honour_hours) AS unsubscribes_over_2d,
           median(honour_hours) AS honour_hours_median,
           quantile_cont(honour_hours, 0.95) AS honour_hours_p95,
           max(honour_hours) AS honour_hours_max
    FROM unsub_hours GROUP BY ALL
)
SELECT coalesce(s.account_id, u.account_id) AS account_id,
       coalesce(s.sends, 0) AS sends,
       coalesce(s.sent_after_unsubscribe, 0) AS sent_after_unsubscribe,
       coalesce(s.sent_after_unsubscribe_over_2d, 0) AS sent_after_unsubscribe_over_2d,
       coalesce(s.sent_after_complaint, 0) AS sent_after_complaint,
       coalesce(s.sent_after_hard_bounce, 0) AS sent_after_hard_bounce,
       coalesce(u.unsubscribe_events, 0) AS unsubscribe_events,
       coalesce(u.unsubscribes_followed_by_send, 0) AS unsubscribes_followed_by_send,
       coalesce(u.unsubscribes_over_2d, 0) AS unsubscribes_over_2d,
       u.honour_hours_median, u.honour_hours_p95, u.honour_hours_max,
       r.* EXCLUDE (account_id)
FROM send_counts AS s
FULL JOIN unsub_counts AS u USING (account_id)
LEFT JOIN rates AS r ON r.account_id = coalesce(s.account_id, u.account_id)
ORDER BY account_id;
