-- Human or machine, for every open in scope; the first rule that matches fires.
-- Grain: one row per open (event_key). Run after clicks_actor (it uses machine clicks).
-- Rules (parameters; defaults in dlvstats.classify.DEFAULT_RULES):
--   vendor_flag       the ESP's machine-open flag (e.g. SendGrid sg_machine_open), when $trust_vendor_flag;
--   apple_mpp         the user agent is exactly $mpp_user_agent ('Mozilla/5.0'): Apple Mail Privacy
--                     Protection's proxy prefetch. No timing condition: prefetches also come hours
--                     later, overnight. A message with one has no usable human-open signal;
--   mpp_address       (only when $mpp_by_ip) the IP is in Apple's 17.0.0.0/8;
--   scanner_prefetch  the message has a scanner click and this open came within $scanner_seconds
--                     of delivery (gateways that also fetch images);
--   image_proxy       Gmail's or Yahoo's image proxy (user agent matches $proxy_pattern): a human
--                     open relayed by the provider;
--   human             otherwise.
CREATE OR REPLACE TEMP TABLE __open_actor AS
WITH scanned AS (
    SELECT DISTINCT message_id FROM __click_actor JOIN clicks USING (event_key)
    WHERE __click_actor.actor_rule IN ('scanner_timing', 'scanner_burst')
)
SELECT o.event_key,
       CASE
         WHEN $trust_vendor_flag AND o.is_machine THEN 'vendor_flag'
         WHEN o.user_agent = $mpp_user_agent THEN 'apple_mpp'
         WHEN $mpp_by_ip AND o.ip LIKE '17.%' THEN 'mpp_address'
         WHEN o.message_id IN (SELECT message_id FROM scanned)
              AND o.ts <= coalesce(s.delivered_at, s.sent_at) + to_seconds($scanner_seconds) THEN 'scanner_prefetch'
         WHEN regexp_matches(coalesce(o.user_agent, ''), $proxy_pattern) THEN 'image_proxy'
         ELSE 'human'
       END AS actor_rule
FROM opens AS o
SEMI JOIN __scope USING (message_id)
LEFT JOIN sends AS s USING (message_id);
