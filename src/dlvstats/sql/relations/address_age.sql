-- address_age: when each address was collected by each account, and how sure we are of it.
-- Grain: one row per (account_id, recipient) that the account sent to (in the period when given).
-- Output: temp table __address_age, read by the engagement and hidden-images metrics.
-- Parameters: $account_id (NULL = every account); $date_from, $date_to: only the addresses the
-- account mailed in [$date_from, $date_to) are computed (the metric's period; NULL = every address),
-- from the evidence dated before $date_to (later evidence cannot make an address older).
-- Columns:
--   collection_date     the earliest evidence that the account had the address: the earliest
--                       `collected_at` given for it on the account (any list), else its first
--                       subscription on the account (any list), and never later than the first
--                       message the account sent to it (a message proves the address was on file).
--                       An old list imported last month therefore keeps its old collection date.
--   age_basis           which evidence fixed collection_date: 'collected_at', 'subscription' (a
--                       sign-up, e.g. a form), 'import' (the subscription event of an import that
--                       gave no collected_at), 're-registration' (a gift/campaign re-registration
--                       with nothing earlier: the person was already on another list), or
--                       'first_send' (no subscription at all: the first message seen).
--   age_is_lower_bound  age_basis in ('import', 're-registration', 'first_send'): the address may be
--                       older than its age says (the data only show when it arrived, not when it
--                       was collected).
--   acquisition_source  the `source` of the first subscription on the account (e.g. form, import,
--                       gift); 'unknown' when none is recorded.
--   first_sent_at       the account's first message to the address, in all loaded data;
--   person              hash(account_id, recipient): a 64-bit key for fast joins (a collision among
--                       a few million people is vanishingly unlikely, about 1e-7).
CREATE OR REPLACE TEMP TABLE __address_age AS
WITH people AS (
    SELECT DISTINCT hash(account_id, recipient) AS person FROM sends
    WHERE dlv_of_account(account_id, $account_id)
      AND ($date_from IS NULL OR sent_at >= $date_from) AND ($date_to IS NULL OR sent_at < $date_to)
),
subs AS (
    SELECT hash(account_id, recipient) AS person,
           min(collected_at) AS first_collected_at,
           min(ts) FILTER (action = 'subscribe') AS first_subscribed_at,
           arg_min(coalesce(source, 'unknown'), ts) FILTER (action = 'subscribe') AS first_subscribe_source,
           -- arg_min skips rows whose value is NULL: taken on a boolean (never NULL), so a first
           -- sign-up without a campaign is not passed over for a later gift re-registration
           arg_min(campaign_id IS NOT NULL, ts) FILTER (action = 'subscribe') AS first_subscribe_has_campaign
    FROM subscriptions
    WHERE dlv_of_account(account_id, $account_id) AND ($date_to IS NULL OR ts < $date_to)
    GROUP BY person
),
first_sends AS (
    -- grouped on the 64-bit person key: far cheaper than on two strings over every send
    SELECT hash(account_id, recipient) AS person, any_value(account_id) AS account_id,
           any_value(recipient) AS recipient, min(sent_at) AS first_sent_at
    FROM sends
    WHERE dlv_of_account(account_id, $account_id) AND ($date_to IS NULL OR sent_at < $date_to)
    GROUP BY person
),
joined AS (
    SELECT f.person, f.account_id, f.recipient,
           s.first_collected_at, s.first_subscribed_at, s.first_subscribe_source,
           s.first_subscribe_has_campaign, f.first_sent_at,
           least(s.first_collected_at, s.first_subscribed_at, f.first_sent_at) AS collection_date
    FROM first_sends AS f
    SEMI JOIN people AS pp ON pp.person = f.person
    LEFT JOIN subs AS s ON s.person = f.person
)
SELECT account_id, recipient, person, collection_date, first_sent_at,
       CASE
         WHEN first_collected_at IS NOT NULL AND first_collected_at = collection_date THEN 'collected_at'
         WHEN first_subscribed_at IS NOT NULL AND first_subscribed_at = collection_date THEN
              CASE WHEN first_subscribe_source = 'import' THEN 'import'
                   WHEN first_subscribe_source = 'gift' OR first_subscribe_has_campaign THEN 're-registration'
                   ELSE 'subscription' END
         ELSE 'first_send'
       END AS age_basis,
       age_basis IN ('import', 're-registration', 'first_send') AS age_is_lower_bound,
       coalesce(first_subscribe_source, 'unknown') AS acquisition_source
FROM joined;
