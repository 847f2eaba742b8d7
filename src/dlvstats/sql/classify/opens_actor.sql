-- Human or machine, for every open in scope; the first rule that matches fires.
-- Grain: one row per open (event_key). Run after clicks_actor (it uses machine clicks).
-- Rules (parameters; defaults in dlvstats.classify.DEFAULT_RULES):
--   vendor_flag       the ESP's machine-open flag (e.g. SendGrid sg_machine_open), when $trust_vendor_flag;
--   apple_mpp         the user agent is exactly $mpp_user_agent ('Mozilla/5.0'): Apple Mail Privacy
--                     Protection's proxy prefetch. No timing condition: prefetches also come hours
--                     later, overnight. A message with one has no usable human-open signal;
--   mpp_address       (only when $mpp_by_ip) the IP is in Apple's 17.0.0.0/8;
--   scanner_prefetch  the message has a scanner click, this open came within $scanner_seconds of
--                     delivery and (when $scanner_prefetch_same_ip and both IPs are known) from the
--                     IP of one of those scanner clicks (gateways that also fetch images; a person
--                     opening at once reads from their own address);
--   image_proxy       Gmail's or Yahoo's image proxy (user agent matches $proxy_pattern): a human
--                     open relayed by the provider;
--   human             otherwise.
CREATE OR REPLACE TEMP TABLE __open_actor AS
WITH scanner_clicks AS (
    SELECT clicks.message_id, clicks.ip FROM __click_actor JOIN clicks USING (event_key)
    WHERE __click_actor.actor_rule IN ('scanner_timing', 'scanner_burst')
),
scanned AS (
    SELECT sc.message_id, list(DISTINCT sc.ip) FILTER (sc.ip IS NOT NULL) AS scanner_ips,
           any_value(coalesce(s.delivered_at, s.sent_at)) AS delivered_or_sent_at
    FROM scanner_clicks AS sc LEFT JOIN sends AS s USING (message_id)
    GROUP BY sc.message_id
)
SELECT o.event_key,
       CASE
         WHEN $trust_vendor_flag AND o.is_machine THEN 'vendor_flag'
         WHEN o.user_agent = $mpp_user_agent THEN 'apple_mpp'
         WHEN $mpp_by_ip AND o.ip LIKE '17.%' THEN 'mpp_address'
         WHEN sc.message_id IS NOT NULL
              AND o.ts <= sc.delivered_or_sent_at + to_seconds($scanner_seconds)
              AND (NOT $scanner_prefetch_same_ip OR o.ip IS NULL OR len(sc.scanner_ips) = 0
                   OR list_contains(sc.scanner_ips, o.ip)) THEN 'scanner_prefetch'
         WHEN regexp_matches(coalesce(o.user_agent, ''), $proxy_pattern) THEN 'image_proxy'
         ELSE 'human'
       END AS actor_rule
FROM opens AS o
SEMI JOIN __scope USING (message_id)
LEFT JOIN scanned AS sc USING (message_id);
