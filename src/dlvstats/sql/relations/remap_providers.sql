-- Re-derive sends.provider from provider_domains after the mapping changed (user entries, MX).
-- Grain: one update per distinct recipient_domain. Rules as in ingest/merge_sends.sql: an exact
-- domain beats a pattern ('hotmail.*'); a user's entry beats an MX proposal beats the default.
CREATE OR REPLACE TEMP TABLE __domain_provider AS
SELECT d.recipient_domain,
       coalesce(arg_min(p.provider, (CASE WHEN p.domain_pattern LIKE '%*%' THEN 2 ELSE 0 END)
                                  + (CASE p.source WHEN 'user' THEN 0 WHEN 'mx' THEN 1 ELSE 2 END)),
                'other') AS provider
FROM (SELECT DISTINCT recipient_domain FROM sends) AS d
LEFT JOIN provider_domains AS p
    ON d.recipient_domain = p.domain_pattern
    OR (p.domain_pattern LIKE '%*' AND d.recipient_domain LIKE replace(p.domain_pattern, '*', '%'))
GROUP BY d.recipient_domain;

UPDATE sends SET provider = dp.provider
FROM __domain_provider AS dp
WHERE sends.recipient_domain = dp.recipient_domain AND sends.provider IS DISTINCT FROM dp.provider;
