-- Typed copies of a canonical drop staged by the canonical reader (views __c_<kind>, VARCHAR
-- columns) for simulate/esp.py. Naive timestamps are read in the session TimeZone (set
-- by the caller). One row per message (the most settled one, as the loader would keep).
CREATE OR REPLACE TEMP MACRO x_iso(t) AS strftime(timezone('UTC', t), '%Y-%m-%dT%H:%M:%S.%fZ');

CREATE OR REPLACE TEMP MACRO x_epoch(t) AS (
    CASE WHEN t IS NULL THEN NULL
         WHEN epoch_us(t) % 1000000 = 0 THEN to_json(epoch_us(t) // 1000000)
         ELSE to_json((epoch_us(t)::DECIMAL(20, 0) / 1000000)::DECIMAL(18, 6)) END
);

-- The diagnostic text an ESP would show for a bounce or delay: the reply code, the enhanced
-- status and the reason, each once (the reason often starts with the code already).
CREATE OR REPLACE TEMP MACRO x_diag(code, enh, reason) AS (
    NULLIF(concat_ws(' ',
        CASE WHEN code IS NOT NULL AND NOT starts_with(coalesce(reason, ''), code) THEN code END,
        CASE WHEN starts_with(coalesce(reason, ''), coalesce(code, '~')) THEN code END,
        CASE WHEN enh IS NOT NULL AND NOT contains(coalesce(reason, ''), enh) THEN enh END,
        CASE WHEN starts_with(coalesce(reason, ''), coalesce(code, '~')) THEN NULLIF(ltrim(substr(reason, length(code) + 1)), '')
             ELSE reason END), '')
);

CREATE OR REPLACE TEMP TABLE __x_sends AS
SELECT NULLIF(trim(message_id), '') AS message_id,
       try_cast(NULLIF(trim(sent_at), '') AS TIMESTAMPTZ) AS sent_at,
       NULLIF(trim(account_id), '') AS account_id,
       NULLIF(trim(list_id), '') AS list_id,
       NULLIF(trim(campaign_id), '') AS campaign_id,
       NULLIF(lower(trim(recipient)), '') AS recipient,
       coalesce(NULLIF(lower(trim(status)), ''), 'delivered') AS status,
       try_cast(NULLIF(trim(delivered_at), '') AS TIMESTAMPTZ) AS delivered_at,
       NULLIF(lower(trim(bounce_class)), '') AS bounce_class,
       NULLIF(trim(smtp_code), '') AS smtp_code,
       NULLIF(trim(enhanced_status), '') AS enhanced_status,
       NULLIF(trim(bounce_reason), '') AS bounce_reason,
       NULLIF(trim(sending_ip), '') AS sending_ip,
       NULLIF(trim(sending_domain), '') AS sending_domain
FROM __c_sends
WHERE NULLIF(trim(message_id), '') IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY NULLIF(trim(message_id), '')
    ORDER BY CASE WHEN coalesce(NULLIF(lower(trim(status)), ''), 'delivered') IN ('delivered', 'bounced') THEN 0 ELSE 1 END) = 1;

CREATE OR REPLACE TEMP TABLE __x_opens AS
SELECT NULLIF(trim(message_id), '') AS message_id, try_cast(NULLIF(trim(ts), '') AS TIMESTAMPTZ) AS ts,
       NULLIF(user_agent, '') AS user_agent, NULLIF(trim(ip), '') AS ip, NULLIF(trim(event_id), '') AS event_id,
       CASE WHEN lower(trim(is_machine)) IN ('true', 't', '1', 'yes', 'y') THEN true
            WHEN lower(trim(is_machine)) IN ('false', 'f', '0', 'no', 'n') THEN false END AS is_machine
FROM __c_opens;

CREATE OR REPLACE TEMP TABLE __x_clicks AS
SELECT NULLIF(trim(message_id), '') AS message_id, try_cast(NULLIF(trim(ts), '') AS TIMESTAMPTZ) AS ts,
       NULLIF(trim(url), '') AS url, NULLIF(user_agent, '') AS user_agent, NULLIF(trim(ip), '') AS ip,
       NULLIF(trim(event_id), '') AS event_id
FROM __c_clicks;

CREATE OR REPLACE TEMP TABLE __x_complaints AS
SELECT __row, try_cast(NULLIF(trim(ts), '') AS TIMESTAMPTZ) AS ts, NULLIF(trim(message_id), '') AS message_id,
       NULLIF(lower(trim(recipient)), '') AS recipient, NULLIF(trim(account_id), '') AS account_id,
       NULLIF(trim(source), '') AS source
FROM __c_complaints;

CREATE OR REPLACE TEMP TABLE __x_subscriptions AS
SELECT __row, try_cast(NULLIF(trim(ts), '') AS TIMESTAMPTZ) AS ts, NULLIF(trim(account_id), '') AS account_id,
       NULLIF(trim(list_id), '') AS list_id, NULLIF(lower(trim(recipient)), '') AS recipient,
       lower(trim(action)) AS action, NULLIF(trim(source), '') AS source, NULLIF(trim(campaign_id), '') AS campaign_id,
       NULLIF(trim(collected_at), '') AS collected_at
FROM __c_subscriptions;

-- Link unsubscribes that an ESP reports: attached to the latest send of the same account, list,
-- campaign and recipient sent before the unsubscribe.
CREATE OR REPLACE TEMP TABLE __x_unsub AS
SELECT u.__row, u.ts, arg_max(s.message_id, s.sent_at) AS message_id
FROM __x_subscriptions AS u
JOIN __x_sends AS s
  ON s.recipient = u.recipient AND s.account_id = u.account_id AND s.list_id = u.list_id
 AND s.campaign_id = u.campaign_id AND s.sent_at <= u.ts
WHERE u.action = 'unsubscribe' AND u.source = 'link' AND u.collected_at IS NULL AND u.ts IS NOT NULL
GROUP BY u.__row, u.ts;

-- Whole epoch seconds and milliseconds (what most ESPs log; the fraction below is dropped).
CREATE OR REPLACE TEMP MACRO x_sec(t) AS (epoch_us(t) // 1000000);
CREATE OR REPLACE TEMP MACRO x_ms(t) AS (epoch_us(t) // 1000);
