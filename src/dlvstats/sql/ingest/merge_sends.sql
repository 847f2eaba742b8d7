-- Insert staged sends (__new_sends, one row per message_id, the most settled status first) whose
-- message_id is not stored yet. Grain: one row per message (one recipient).
-- Derived: recipient_domain (after the last @) and provider (from provider_domains: an exact
-- domain beats a pattern like 'hotmail.*'; a user's entry beats the shipped default; else 'other').
-- Parameters: $drop_id.
CREATE OR REPLACE TEMP TABLE __domains AS
SELECT DISTINCT split_part(recipient, '@', -1) AS recipient_domain FROM __new_sends;

CREATE OR REPLACE TEMP TABLE __domain_provider AS
SELECT d.recipient_domain,
       coalesce(arg_min(p.provider, (CASE WHEN p.domain_pattern LIKE '%*%' THEN 2 ELSE 0 END)
                                  + (CASE p.source WHEN 'user' THEN 0 WHEN 'mx' THEN 1 ELSE 2 END)),
                'other') AS provider
FROM __domains AS d
LEFT JOIN provider_domains AS p
    ON d.recipient_domain = p.domain_pattern
    OR (p.domain_pattern LIKE '%*' AND d.recipient_domain LIKE replace(p.domain_pattern, '*', '%'))
GROUP BY d.recipient_domain;

INSERT INTO sends
SELECT n.message_id, n.sent_at, n.account_id, n.list_id, n.campaign_id, n.recipient,
       split_part(n.recipient, '@', -1), dp.provider, n.status, n.delivered_at, n.bounce_class,
       n.smtp_code, n.enhanced_status, n.bounce_reason, n.sending_ip, n.sending_domain, $drop_id
FROM __new_sends AS n
JOIN __domain_provider AS dp ON dp.recipient_domain = split_part(n.recipient, '@', -1)
ANTI JOIN sends AS existing ON existing.message_id = n.message_id;
