-- sender_health_account_risk: which accounts put the shared sending IPs at risk, from the signs
-- that come before a blocklisting (old addresses, people who never engage) and the ones that
-- come with it (complaints, hard bounces).
-- Grain: one row per account with sends in [$date_from, $date_to) (sent_at, UTC); only
--        $account_id's row when given (then no rank: an account's pack shows no other client).
-- Needs: __bounce_category (relations/bounce_category.sql) built for the same period and account.
-- Parameters: $date_from, $date_to, $account_id, $fbl_providers (VARCHAR[]), $old_years,
--   $complaint_line, $bounce_line, $old_line, $never_line (the value of each component that
--   scores 1), $cap (no component scores more), $w_complaint, $w_bounce, $w_old, $w_never.
-- Rules:
--   collection date of an address on an account: its earliest collected_at there, else its first
--   subscription there (any list) - an old list imported last month is old, not new; age is taken
--   at the recipient's first message of the period.
--   engaged: any human signal of the recipient on the account before $date_to (a human open or a
--   human click on any message, an order, a gift re-registration). Recipients whose only opens
--   are machine opens (Apple MPP, scanners) and who have no other signal are 'unknown' and left
--   out of never_engaged_share.
--   shared IP: a sending_ip used by two accounts or more in the period (whatever $account_id).
-- Public columns:
--   sends, delivered, recipients (distinct), shared_ip_sends (sends from shared IPs),
--   shared_ip_share        shared_ip_sends / sends
--   old_address_share      num = recipients aged >= $old_years, den = recipients of known age
--   old_import_share       num = recipients whose first subscription on the account came
--                          >= $old_years after their collection date and within 365 days before
--                          their first message of the period (an old list imported recently),
--                          den = recipients with a known first subscription
--   never_engaged_share    num = delivered recipients never engaged, den = delivered recipients
--                          not 'unknown'
--   unknown_engagement     delivered recipients with machine opens only (count)
--   complaint_rate         num = delivered messages with a complaint, den = delivered
--   complaint_rate_fbl     the same among messages delivered to $fbl_providers
--   hard_bounce_rate       num = hard bounces, den = sends
--   invalid_address_rate   num = hard bounces of dead addresses (category invalid_mailbox or
--                          bad_domain, relations/bounce_category.sql), den = sends
--   risk_score             weighted mean over the four components of
--                          least(component / line, $cap): complaint_rate_fbl (complaint_rate
--                          when no FBL traffic) / $complaint_line, invalid_address_rate /
--                          $bounce_line (dead addresses only: mail refused because a shared IP
--                          is listed is not the account's list hygiene), old_address_share / $old_line, never_engaged_share /
--                          $never_line; 1 = at the lines on average
--   risk_rank              1 = riskiest; accounts sending through shared IPs rank before the
--                          others (they are the risk to the shared pool), then by risk_score
-- Rates come as cluster sums R__num ... R__k over recipients (dlvstats/metrics/common.py).
WITH period_msgs AS (
    SELECT * FROM message_facts WHERE dlv_in_period(sent_at, $date_from, $date_to)
),
shared_ips AS (
    SELECT sending_ip FROM period_msgs WHERE sending_ip IS NOT NULL
    GROUP BY sending_ip HAVING count(DISTINCT account_id) >= 2
),
scope AS (
    SELECT m.*, b.category, m.sending_ip IN (SELECT sending_ip FROM shared_ips) AS is_shared_ip
    FROM period_msgs AS m
    LEFT JOIN __bounce_category AS b USING (message_id)
    WHERE dlv_of_account(m.account_id, $account_id)
),
collection AS (
    SELECT account_id, recipient,
           coalesce(min(collected_at), min(ts) FILTER (action = 'subscribe')) AS collected_on,
           min(ts) FILTER (action = 'subscribe') AS first_subscribed_at
    FROM subscriptions
    WHERE dlv_of_account(account_id, $account_id)
    GROUP BY ALL
),
signals AS (
    SELECT DISTINCT account_id, recipient FROM message_facts
    WHERE sent_at < $date_to AND (has_human_open OR has_human_click)
      AND dlv_of_account(account_id, $account_id)
    UNION
    SELECT DISTINCT account_id, recipient FROM orders
    WHERE ts < $date_to AND dlv_of_account(account_id, $account_id)
    UNION
    SELECT DISTINCT account_id, recipient FROM subscriptions
    WHERE ts < $date_to AND action = 'subscribe' AND source = 'gift'
      AND dlv_of_account(account_id, $account_id)
),
people AS (
    SELECT account_id, recipient,
           count(*) AS n_sends,
           count(*) FILTER (is_delivered) AS n_delivered,
           count(*) FILTER (is_delivered AND list_contains($fbl_providers, provider)) AS n_delivered_fbl,
           count(*) FILTER (is_delivered AND has_complaint) AS y_complaints,
           count(*) FILTER (is_delivered AND has_complaint AND list_contains($fbl_providers, provider)) AS y_complaints_fbl,
           count(*) FILTER (is_hard_bounce) AS y_hard,
           count(*) FILTER (is_hard_bounce AND category IN ('invalid_mailbox', 'bad_domain')) AS y_invalid,
           count(*) FILTER (is_shared_ip) AS n_shared,
           bool_or(is_delivered AND has_machine_open) AS any_machine_open,
           min(sent_at) AS first_sent_at
    FROM scope GROUP BY ALL
),
enriched AS (
    SELECT p.*,
           c.collected_on IS NOT NULL AS age_known,
           c.collected_on IS NOT NULL
               AND date_diff('day', c.collected_on, p.first_sent_at) / 365.25 >= $old_years AS is_old,
           c.first_subscribed_at IS NOT NULL AS first_sub_known,
           c.first_subscribed_at IS NOT NULL
               AND date_diff('day', c.collected_on, c.first_subscribed_at) / 365.25 >= $old_years
               AND c.first_subscribed_at >= p.first_sent_at - INTERVAL 365 DAY AS is_old_import,
           g.recipient IS NOT NULL AS engaged,
           g.recipient IS NULL AND p.any_machine_open AS unknown_engagement
    FROM people AS p
    LEFT JOIN collection AS c USING (account_id, recipient)
    LEFT JOIN signals AS g USING (account_id, recipient)
),
long AS (
    SELECT account_id, 'complaint_rate' AS rate, y_complaints AS y, n_delivered AS n FROM enriched
    UNION ALL SELECT account_id, 'complaint_rate_fbl', y_complaints_fbl, n_delivered_fbl FROM enriched
    UNION ALL SELECT account_id, 'hard_bounce_rate', y_hard, n_sends FROM enriched
    UNION ALL SELECT account_id, 'invalid_address_rate', y_invalid, n_sends FROM enriched
    UNION ALL SELECT account_id, 'old_address_share', CAST(is_old AS INTEGER), 1 FROM enriched WHERE age_known
    UNION ALL SELECT account_id, 'old_import_share', CAST(is_old_import AS INTEGER), 1 FROM enriched WHERE first_sub_known
    UNION ALL SELECT account_id, 'never_engaged_share', CAST(NOT engaged AS INTEGER), 1 FROM enriched
              WHERE n_delivered > 0 AND NOT unknown_engagement
),
rate_sums AS (
    SELECT account_id, rate, sum(y) AS num, sum(n) AS den, sum(y * y) AS y2, sum(y * n) AS yn,
           sum(n * n) AS n2, count(*) AS k
    FROM long WHERE n > 0 GROUP BY ALL
),
rates AS (
    PIVOT rate_sums
    ON rate IN ('complaint_rate', 'complaint_rate_fbl', 'hard_bounce_rate', 'invalid_address_rate', 'old_address_share',
                'old_import_share', 'never_engaged_share')
    USING first(num) AS _num, first(den) AS _den, first(y2) AS _y2, first(yn) AS _yn,
          first(n2) AS _n2, first(k) AS _k
    GROUP BY account_id
),
counts AS (
    SELECT account_id,
           CAST(sum(n_sends) AS BIGINT) AS sends, CAST(sum(n_delivered) AS BIGINT) AS delivered,
           count(*) AS recipients,
           CAST(sum(n_shared) AS BIGINT) AS shared_ip_sends, sum(n_shared) / sum(n_sends) AS shared_ip_share,
           count(*) FILTER (n_delivered > 0 AND unknown_engagement) AS unknown_engagement,
           CAST(sum(y_complaints) AS BIGINT) AS complaints, CAST(sum(y_hard) AS BIGINT) AS hard_bounces
    FROM enriched GROUP BY ALL
),
scored AS (
    SELECT c.*, r.* EXCLUDE (account_id),
           ( $w_complaint * least(coalesce(r.complaint_rate_fbl__num / nullif(r.complaint_rate_fbl__den, 0),
                                           r.complaint_rate__num / nullif(r.complaint_rate__den, 0), 0)
                                  / $complaint_line, $cap)
           + $w_bounce * least(coalesce(r.invalid_address_rate__num / nullif(r.invalid_address_rate__den, 0), 0)
                               / $bounce_line, $cap)
           + $w_old * least(coalesce(r.old_address_share__num / nullif(r.old_address_share__den, 0), 0)
                            / $old_line, $cap)
           + $w_never * least(coalesce(r.never_engaged_share__num / nullif(r.never_engaged_share__den, 0), 0)
                              / $never_line, $cap)
           ) / ($w_complaint + $w_bounce + $w_old + $w_never) AS risk_score
    FROM counts AS c
    LEFT JOIN rates AS r USING (account_id)
)
SELECT CASE WHEN $account_id IS NULL
            THEN row_number() OVER (ORDER BY shared_ip_sends > 0 DESC, risk_score DESC, account_id) END AS risk_rank,
       *
FROM scored
ORDER BY shared_ip_sends > 0 DESC, risk_score DESC, account_id;
