-- Settle stored sends whose status was not final: the spec's status precedence across drops.
-- Grain: one stored row per message_id. Rule: `bounced` or `delivered` replace `deferred` or
-- `sent`; a settled status is never undone (a later `deferred` for a delivered message is a
-- duplicate). Returns the number of rows updated.
-- Parameters: $drop_id.
UPDATE sends SET
    status = n.status,
    delivered_at = coalesce(n.delivered_at, sends.delivered_at),
    bounce_class = coalesce(n.bounce_class, sends.bounce_class),
    smtp_code = coalesce(n.smtp_code, sends.smtp_code),
    enhanced_status = coalesce(n.enhanced_status, sends.enhanced_status),
    bounce_reason = coalesce(n.bounce_reason, sends.bounce_reason),
    sending_ip = coalesce(sends.sending_ip, n.sending_ip),
    sending_domain = coalesce(sends.sending_domain, n.sending_domain),
    sent_at = least(sends.sent_at, n.sent_at),
    drop_id = $drop_id
FROM __new_sends AS n
WHERE sends.message_id = n.message_id
  AND sends.status IN ('deferred', 'sent')
  AND n.status IN ('delivered', 'bounced');
