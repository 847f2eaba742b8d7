-- One row per message seen in the events of one adapter call (__adp_ev), aggregated for `sends`.
-- Grain: message_id. Rules (docs/formats/README.md):
--   * messages the provider rejected or dropped (etype 'reject': SES Reject, SendGrid dropped,
--     Mailgun rejected or suppressed) and that no delivery, bounce or delay settles were never
--     sent: their events become notes, not `sends` rows;
--   * sent_at = the earliest time a delivery-status event gives for the message (the send time
--     when the format states it, e.g. SES mail.timestamp; else the earliest event time);
--   * status = the latest settling event (delivery -> delivered, bounce -> bounced); else
--     `deferred` if a delay was seen; else `sent` (accepted only);
--   * bounce fields from that bounce; for a deferred message, the codes of the latest delay;
--   * recipient, account, list, campaign, sending IP and domain: the first non-empty value over
--     the events of the message (opens and clicks included; (un)subscriptions only when nothing
--     else names them, since their list may be the one left), else --account/--list/--campaign,
--     else 'unknown' (the *_raw columns keep the values without defaults).
-- Parameters: $def_account, $def_list, $def_campaign (may be NULL).
UPDATE __adp_ev SET etype = 'ignore',
    note = 'not sent: the provider rejected or dropped the message (suppressed address, virus, invalid); no `sends` row'
WHERE etype IN ('send', 'reject') AND (message_id IS NULL AND etype = 'reject' OR message_id IN (
    SELECT message_id FROM __adp_ev WHERE message_id IS NOT NULL GROUP BY message_id
    HAVING bool_or(etype = 'reject') AND NOT bool_or(etype IN ('delivery', 'bounce', 'delay'))));

UPDATE __adp_ev SET etype = 'ignore',
    note = 'rejected or dropped after the message was delivered or bounced; the settled status is kept'
WHERE etype = 'reject';

CREATE OR REPLACE TEMP TABLE __adp_msg AS
WITH ev AS (
    SELECT *,
           coalesce(epoch_us(__ts), -9223372036854775807)::HUGEINT * 10000000000 + __seq AS __ord,
           etype IN ('send', 'delivery', 'bounce', 'delay') AS __status_event
    FROM __adp_ev
    WHERE message_id IS NOT NULL AND etype NOT IN ('ignore', 'unknown', 'error')
), agg AS (
    SELECT message_id,
           arg_min(coalesce(sent_at, ts), __sent) FILTER (WHERE __status_event) AS sent_at,
           arg_max(etype, __ord) FILTER (WHERE etype IN ('delivery', 'bounce')) AS settled_by,
           bool_or(etype = 'delay') AS delayed,
           arg_min(ts, __ts) FILTER (WHERE etype = 'delivery') AS delivered_at,
           arg_max({'c': bounce_class, 's': smtp_code, 'e': enhanced_status, 'r': bounce_reason}, __ord)
               FILTER (WHERE etype = 'bounce') AS b,
           arg_max({'s': smtp_code, 'e': enhanced_status, 'r': bounce_reason}, __ord)
               FILTER (WHERE etype = 'delay') AS d,
           coalesce(min(recipient) FILTER (WHERE __status_event), min(recipient)) AS recipient,
           coalesce(min(account_id) FILTER (WHERE etype NOT IN ('subscribe', 'unsubscribe')), min(account_id)) AS account_id_raw,
           coalesce(min(list_id) FILTER (WHERE etype NOT IN ('subscribe', 'unsubscribe')), min(list_id)) AS list_id_raw,
           coalesce(min(campaign_id) FILTER (WHERE etype NOT IN ('subscribe', 'unsubscribe')), min(campaign_id)) AS campaign_id_raw,
           min(sending_ip) AS sending_ip,
           min(sending_domain) AS sending_domain
    FROM ev
    GROUP BY message_id
)
SELECT message_id, sent_at,
       coalesce(account_id_raw, $def_account, 'unknown') AS account_id,
       coalesce(list_id_raw, $def_list, 'unknown') AS list_id,
       coalesce(campaign_id_raw, $def_campaign, 'unknown') AS campaign_id,
       recipient,
       CASE settled_by WHEN 'delivery' THEN 'delivered' WHEN 'bounce' THEN 'bounced'
            ELSE CASE WHEN delayed THEN 'deferred' ELSE 'sent' END END AS status,
       CASE WHEN settled_by = 'delivery' THEN delivered_at END AS delivered_at,
       CASE WHEN settled_by = 'bounce' THEN b.c END AS bounce_class,
       CASE WHEN settled_by = 'bounce' THEN b.s WHEN settled_by IS NULL THEN d.s END AS smtp_code,
       CASE WHEN settled_by = 'bounce' THEN b.e WHEN settled_by IS NULL THEN d.e END AS enhanced_status,
       CASE WHEN settled_by = 'bounce' THEN b.r WHEN settled_by IS NULL THEN d.r END AS bounce_reason,
       sending_ip, sending_domain, account_id_raw, list_id_raw, campaign_id_raw
FROM agg;
