-- engagement_base: the messages of the period with everything the engagement tables group by.
-- Grain: one row per message sent in [$date_from, $date_to) (UTC, on sent_at), of $account_id
-- when given. Output: temp table __eng_msg, aggregated by engagement_aggregate.sql and friends.
-- Needs: temp tables __address_age (relations/address_age.sql) and __reader_device
-- (relations/reader_device.sql) built with the same $account_id.
-- Parameters:
--   $date_from, $date_to, $account_id   the period (half-open) and the account (NULL = all);
--   $weight_providers, $weight_values  two aligned lists: provider -> read weight
--                      1 / (1 - image_blocked_share) from hidden-images over the same period;
--                      provider '*' is the weight for providers without their own (unmeasurable
--                      or absent): from the share pooled over the measurable providers;
--   $cohort_unit       'month' | 'quarter' | 'year': signup cohorts are date_trunc(unit, collection_date);
--   $with_recency      false skips the history look-ups (signals, machine opens, orders): the
--                      recency, inactivity and order columns are then meaningless ('no signal yet', 0);
--                      engagement-by-age does not need them;
--   $attribution_days  an order is attributed to the latest delivered message to the same person
--                      on the account sent at most this many days before it (last touch).
-- Columns and rules:
--   age_years          floor(elapsed whole days from collection_date (see address_age.sql) to sent_at
--                      / 365.25); NULL (age unknown, shown as 'unknown') when nothing dates the address's
--                      collection: no collected_at and no subscription at all (age_basis 'first_send',
--                      e.g. an ESP export alone), or no address_age row. The first message sent is
--                      only the start of the loaded data: taking it as the collection date would make
--                      every such address age 0. age_unknown says so;
--   months_since_signup floor(elapsed whole days from collection_date to sent_at / 30.4375);
--   signup_cohort      date_trunc($cohort_unit, collection_date) (a DATE; shown as YYYY-MM);
--   recency_order      1-5 'engaged' (a human signal before this send; 1 = 0-2 months since it, 2 =
--                      3-5, 3 = 6-11, 4 = 12-23, 5 = 24+), 6 'no signal yet' (none), 7 'unknown
--                      (machine opens only)' (none, but earlier messages got machine opens: e.g.
--                      Apple MPP, whose reading is invisible); the labels are added by the aggregates.
--                      Human signals, over all loaded data on the account: a human open, a human
--                      click (not on an unsubscribe/preference link), an order, a re-registration
--                      (a subscribe from a campaign or with source 'gift');
--   inactivity_months  floor(elapsed whole days since the last human signal / 30.4375); without
--                      one, since the later of collection_date and the data start (the account's
--                      first loaded message): a lower bound, the logs show no earlier;
--   person             hash(account_id, recipient): the recipient key of the interval sums (a
--                      person is mailed by one account; the same address on two accounts counts as
--                      two clusters);
--   is_measurable      delivered and no machine open (a machine open hides human opens);
--   device             the person's reading device family (__reader_device, reader_device.sql:
--                      'mobile' | 'desktop' | 'unknown'); weight_key = provider || '|' || device, the
--                      stratum of the read estimator (metrics/read_strata.py);
--   read_weight        the weight of the message's weight_key, else of its provider, else the '*'
--                      entry (the read estimator then sets each stratum's weight: read_weights_apply.sql);
--   orders, revenue    orders attributed to this message (see $attribution_days).
CREATE OR REPLACE TEMP TABLE __eng_msg AS
WITH period AS (
    SELECT *, hash(account_id, recipient) AS person FROM message_facts
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
),
weights AS (
    SELECT unnest($weight_providers) AS provider, unnest($weight_values) AS read_weight
),
default_weight AS (SELECT any_value(read_weight) AS read_weight FROM weights WHERE provider = '*'),
account_start AS (
    SELECT account_id, min(sent_at) AS data_start FROM sends
    WHERE dlv_of_account(account_id, $account_id)
    GROUP BY account_id
),
-- the people mailed in the period: the history look-ups below are restricted to them
people AS (SELECT DISTINCT person FROM period),
-- every loaded message of those people with a human signal or a machine open (not only the
-- period's), keyed by person, read once:
-- a person is hash(account_id, recipient), a 64-bit key, so the joins and the as-of join below
-- sort and hash one integer
history_messages AS MATERIALIZED (
    SELECT m.person, m.message_id, m.sent_at, m.first_human_open_at, m.first_human_click_at,
           m.has_machine_open
    FROM (SELECT hash(account_id, recipient) AS person, message_id, sent_at,
                 first_human_open_at, first_human_click_at, has_machine_open
          FROM message_facts
          WHERE $with_recency AND dlv_of_account(account_id, $account_id)
            AND (first_human_open_at IS NOT NULL OR first_human_click_at IS NOT NULL OR has_machine_open)) AS m
    SEMI JOIN people USING (person)
),
account_orders AS (
    SELECT o.person, o.ts, o.amount
    FROM (SELECT hash(account_id, recipient) AS person, ts, amount FROM orders
          WHERE $with_recency AND dlv_of_account(account_id, $account_id)) AS o
    SEMI JOIN people USING (person)
),
-- human signals: a human open, a human content click, an order, a re-registration
signals AS (
    SELECT person, first_human_open_at AS ts FROM history_messages WHERE first_human_open_at IS NOT NULL
    UNION ALL
    SELECT person, first_human_click_at FROM history_messages WHERE first_human_click_at IS NOT NULL
    UNION ALL
    SELECT person, ts FROM account_orders
    UNION ALL
    SELECT r.person, r.ts
    FROM (SELECT hash(account_id, recipient) AS person, ts FROM subscriptions
          WHERE $with_recency AND action = 'subscribe' AND (source = 'gift' OR campaign_id IS NOT NULL)
            AND dlv_of_account(account_id, $account_id)) AS r
    SEMI JOIN people USING (person)
),
first_machine AS (
    SELECT person, min(sent_at) AS first_machine_open_message_at
    FROM history_messages WHERE has_machine_open
    GROUP BY person
),
buyers_messages AS (
    -- delivered messages of the people who ordered (few): found by recipient first, then keyed
    SELECT b.person, b.message_id, b.sent_at
    FROM (SELECT hash(account_id, recipient) AS person, message_id, sent_at FROM message_facts
          WHERE $with_recency AND is_delivered AND dlv_of_account(account_id, $account_id)
            AND recipient IN (SELECT recipient FROM orders)) AS b
    SEMI JOIN (SELECT DISTINCT person FROM account_orders) AS o USING (person)
),
order_attribution AS (
    SELECT d.message_id, count(*) AS orders, sum(o.amount) AS revenue
    FROM account_orders AS o
    ASOF JOIN buyers_messages AS d ON d.person = o.person AND o.ts >= d.sent_at
    WHERE o.ts <= d.sent_at + to_days(CAST($attribution_days AS INTEGER))
    GROUP BY d.message_id
),
history AS (
    -- the as-of look-up sorts every message of the period: skipped (empty input) without $with_recency
    SELECT p.message_id, s.ts AS last_signal_at
    FROM (SELECT message_id, person, sent_at FROM period WHERE $with_recency) AS p
    ASOF LEFT JOIN signals AS s ON s.person = p.person AND p.sent_at > s.ts
),
with_signals AS (
    SELECT p.*, h.last_signal_at, fm.first_machine_open_message_at
    FROM period AS p
    LEFT JOIN history AS h USING (message_id)
    LEFT JOIN first_machine AS fm ON fm.person = p.person
),
assembled AS (
    SELECT w.person, w.provider, w.sent_at,
           a.age_is_lower_bound, a.acquisition_source,
           -- elapsed whole days (24 h periods), not calendar-day boundaries crossed
           floor(greatest(date_diff('second', a.collection_date, w.sent_at), 0) / 86400) AS age_days,
           a.age_basis IS NULL OR a.age_basis = 'first_send' AS age_unknown,
           CASE WHEN NOT age_unknown THEN CAST(floor(age_days / 365.25) AS INTEGER) END AS age_years,
           CAST(floor(age_days / 30.4375) AS INTEGER) AS months_since_signup,
           CAST(date_trunc($cohort_unit, a.collection_date) AS DATE) AS signup_cohort,
           CAST(floor(greatest(date_diff('second',
                coalesce(w.last_signal_at, greatest(a.collection_date, st.data_start)), w.sent_at), 0)
                / 86400 / 30.4375) AS INTEGER) AS inactivity_months,
           CASE WHEN w.last_signal_at IS NOT NULL THEN
                     CASE WHEN inactivity_months < 3 THEN 1 WHEN inactivity_months < 6 THEN 2
                          WHEN inactivity_months < 12 THEN 3 WHEN inactivity_months < 24 THEN 4 ELSE 5 END
                WHEN w.first_machine_open_message_at < w.sent_at THEN 7
                ELSE 6 END AS recency_order,
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
           coalesce(rd.device, 'unknown') AS device,
           coalesce(w.provider, 'other') || '|' || coalesce(rd.device, 'unknown') AS weight_key,
           coalesce(wk.read_weight, wt.read_weight, dw.read_weight) AS read_weight,
           coalesce(oa.orders, 0) AS orders,
           coalesce(oa.revenue, 0) AS revenue
    FROM with_signals AS w
    LEFT JOIN __address_age AS a ON a.person = w.person
    LEFT JOIN __reader_device AS rd ON rd.person = w.person
    LEFT JOIN weights AS wk ON wk.provider = coalesce(w.provider, 'other') || '|' || coalesce(rd.device, 'unknown')
    LEFT JOIN weights AS wt ON wt.provider = w.provider
    CROSS JOIN default_weight AS dw
    LEFT JOIN account_start AS st ON st.account_id = w.account_id
    LEFT JOIN order_attribution AS oa ON oa.message_id = w.message_id
)
SELECT * EXCLUDE (age_days, sent_at) FROM assembled;
