-- engagement_base: the messages of the period with everything the engagement tables group by.
-- Grain: one row per message sent in [$date_from, $date_to) (UTC, on sent_at), of $account_id
-- when given. Output: temp table __eng_msg, aggregated by engagement_aggregate.sql and friends.
-- Needs: temp table __address_age (relations/address_age.sql) built with the same $account_id.
-- Parameters:
--   $date_from, $date_to, $account_id   the period (half-open) and the account (NULL = all);
--   $read_weight       MAP(provider -> 1 / (1 - image_blocked_share)) from hidden-images over the
--                      same period; key '*' is the weight for providers without their own
--                      (unmeasurable or absent): the pooled share of the measurable providers;
--   $cohort_unit       'month' | 'quarter' | 'year': signup cohorts are date_trunc(unit, collection_date);
--   $attribution_days  an order is attributed to the latest delivered message to the same person
--                      on the account sent at most this many days before it (last touch).
-- Columns and rules:
--   age_years          floor(whole days from collection_date (see address_age.sql) to sent_at / 365.25);
--   months_since_signup floor(days from collection_date to sent_at / 30.4375);
--   engagement_status  'engaged' (a human signal before this send), 'unknown' (no human signal, but
--                      earlier messages got machine opens: e.g. Apple MPP, whose reading is
--                      invisible), 'no_signal' (neither);
--                      human signals, over all loaded data on the account: a human open, a human
--                      click (not on an unsubscribe/preference link), an order, a re-registration
--                      (a subscribe from a campaign or with source 'gift');
--   inactivity_months  floor(days since the last human signal / 30.4375); for 'no_signal' and
--                      'unknown', days since the later of collection_date and the data start (the
--                      account's first loaded message): a lower bound, the logs show no earlier;
--   recency            bucket label of inactivity_months for 'engaged' ('0-2 months', '3-5 months',
--                      '6-11 months', '12-23 months', '24+ months'), else 'no signal yet' or
--                      'unknown (machine opens only)'; recency_order sorts them;
--   is_measurable      delivered and no machine open (a machine open hides human opens);
--   read_weight        $read_weight of the message's provider (the '*' entry when absent);
--   orders, revenue    orders attributed to this message (see $attribution_days).
CREATE OR REPLACE TEMP TABLE __eng_msg AS
WITH period AS (
    SELECT * FROM message_facts
    WHERE sent_at >= $date_from AND sent_at < $date_to
      AND ($account_id IS NULL OR account_id = $account_id)
),
account_start AS (
    SELECT account_id, min(sent_at) AS data_start FROM sends
    WHERE $account_id IS NULL OR account_id = $account_id
    GROUP BY account_id
),
signals AS (
    SELECT account_id, recipient, first_human_open_at AS ts FROM message_facts
    WHERE first_human_open_at IS NOT NULL AND ($account_id IS NULL OR account_id = $account_id)
    UNION ALL
    SELECT account_id, recipient, first_human_click_at FROM message_facts
    WHERE first_human_click_at IS NOT NULL AND ($account_id IS NULL OR account_id = $account_id)
    UNION ALL
    SELECT account_id, recipient, ts FROM orders
    WHERE $account_id IS NULL OR account_id = $account_id
    UNION ALL
    SELECT account_id, recipient, ts FROM subscriptions
    WHERE action = 'subscribe' AND (source = 'gift' OR campaign_id IS NOT NULL)
      AND ($account_id IS NULL OR account_id = $account_id)
),
machine_seen AS (
    SELECT account_id, recipient, sent_at AS ts FROM message_facts
    WHERE has_machine_open AND ($account_id IS NULL OR account_id = $account_id)
),
delivered_all AS (
    SELECT message_id, account_id, recipient, sent_at FROM message_facts
    WHERE is_delivered AND ($account_id IS NULL OR account_id = $account_id)
),
order_attribution AS (
    SELECT d.message_id, count(*) AS orders, sum(o.amount) AS revenue
    FROM orders AS o
    ASOF JOIN delivered_all AS d
      ON d.account_id = o.account_id AND d.recipient = o.recipient AND o.ts >= d.sent_at
    WHERE ($account_id IS NULL OR o.account_id = $account_id)
      AND o.ts <= d.sent_at + to_days(CAST($attribution_days AS INTEGER))
    GROUP BY d.message_id
),
with_signals AS (
    SELECT p.*, s.ts AS last_signal_at
    FROM period AS p
    ASOF LEFT JOIN signals AS s
      ON s.account_id = p.account_id AND s.recipient = p.recipient AND p.sent_at > s.ts
),
with_machine AS (
    SELECT w.*, ms.ts AS last_machine_open_message_at
    FROM with_signals AS w
    ASOF LEFT JOIN machine_seen AS ms
      ON ms.account_id = w.account_id AND ms.recipient = w.recipient AND w.sent_at > ms.ts
),
assembled AS (
    SELECT w.message_id, w.account_id, w.recipient, w.provider, w.sent_at,
           a.collection_date, a.age_basis, a.age_is_lower_bound, a.acquisition_source,
           CAST(floor(greatest(date_diff('day', a.collection_date, w.sent_at), 0) / 365.25) AS INTEGER) AS age_years,
           CAST(floor(greatest(date_diff('day', a.collection_date, w.sent_at), 0) / 30.4375) AS INTEGER) AS months_since_signup,
           strftime(date_trunc($cohort_unit, a.collection_date), '%Y-%m') AS signup_cohort,
           CASE WHEN w.last_signal_at IS NOT NULL THEN 'engaged'
                WHEN w.last_machine_open_message_at IS NOT NULL THEN 'unknown'
                ELSE 'no_signal' END AS engagement_status,
           CAST(floor(greatest(date_diff('day',
                coalesce(w.last_signal_at, greatest(a.collection_date, st.data_start)), w.sent_at), 0)
                / 30.4375) AS INTEGER) AS inactivity_months,
           w.is_delivered, w.is_hard_bounce,
           w.is_delivered AND w.has_open AS has_open,
           w.is_delivered AND w.has_human_open AS has_human_open,
           w.is_delivered AND w.has_human_click AS has_human_click,
           w.is_delivered AND w.has_complaint AS has_complaint,
           w.is_delivered AND w.has_unsubscribe AS has_unsubscribe,
           w.is_delivered AND w.has_machine_open AS has_machine_open,
           w.is_delivered AND NOT w.has_machine_open AS is_measurable,
           w.is_delivered AND NOT w.has_machine_open AND w.has_human_open AS measurable_human_open,
           w.is_delivered AND NOT w.has_machine_open AND w.has_human_click AS measurable_human_click,
           w.is_delivered AND NOT w.has_machine_open AND w.has_human_click AND NOT w.has_human_open
               AS measurable_click_without_open,
           coalesce($read_weight[w.provider], $read_weight['*']) AS read_weight,
           coalesce(oa.orders, 0) AS orders,
           coalesce(oa.revenue, 0) AS revenue
    FROM with_machine AS w
    LEFT JOIN __address_age AS a ON a.account_id = w.account_id AND a.recipient = w.recipient
    LEFT JOIN account_start AS st ON st.account_id = w.account_id
    LEFT JOIN order_attribution AS oa ON oa.message_id = w.message_id
)
SELECT *,
       CASE engagement_status
         WHEN 'engaged' THEN CASE WHEN inactivity_months < 3 THEN '0-2 months'
                                  WHEN inactivity_months < 6 THEN '3-5 months'
                                  WHEN inactivity_months < 12 THEN '6-11 months'
                                  WHEN inactivity_months < 24 THEN '12-23 months'
                                  ELSE '24+ months' END
         WHEN 'no_signal' THEN 'no signal yet'
         ELSE 'unknown (machine opens only)' END AS recency,
       CASE engagement_status
         WHEN 'engaged' THEN CASE WHEN inactivity_months < 3 THEN 1 WHEN inactivity_months < 6 THEN 2
                                  WHEN inactivity_months < 12 THEN 3 WHEN inactivity_months < 24 THEN 4
                                  ELSE 5 END
         WHEN 'no_signal' THEN 6 ELSE 7 END AS recency_order
FROM assembled;
