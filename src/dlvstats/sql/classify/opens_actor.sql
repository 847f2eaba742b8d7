-- Human or machine, for every open in scope; the first rule that matches fires.
-- Grain: one row per open (event_key). Run after clicks_actor (it uses machine clicks) and
-- networks/match.sql (__event_network).
-- Rules (parameters; defaults in dlvstats.classify.DEFAULT_RULES; evidence in docs/classification.md):
--   vendor_flag       the ESP's machine-open flag (e.g. SendGrid sg_machine_open), when $trust_vendor_flag;
--   apple_mpp         the user agent is exactly $mpp_user_agent ('Mozilla/5.0'): Apple Mail Privacy
--                     Protection's proxy prefetch. No timing condition: prefetches also come hours
--                     later, overnight. A message with one has no usable human-open signal;
--   mpp_address       (when $mpp_by_ip, the default) the address is in a listed Apple egress network
--                     (17.0.0.0/8, iCloud Private Relay egress), or in a listed CDN network (Akamai,
--                     Cloudflare, Fastly: Apple's relay partners) with an Apple Mail user agent
--                     ($apple_mail_ua_pattern): MPP prefetches with a full WebKit user agent, at any
--                     hour. A person reading in Apple Mail without MPP fetches from their own network;
--   scanner_prefetch  the message has a scanner click, this open came within $scanner_seconds of
--                     delivery and (when $same_network and both addresses are known) from the same
--                     network (listed network, else /16) as one of those clicks: a gateway's pool
--                     fetching images; a person opening at once reads from their own network;
--   scanner_fetch     the open came within $fetch_near_click_seconds (either side) of a machine click
--                     on the same message from the same network (listed network, else /16): a
--                     gateway fetching images as it scans, however late (time-of-click re-scans).
--                     Not by user agent: a person opening at once often has the scanner's very
--                     Chrome-on-Windows user agent;
--   gateway_fetch     the open came from a listed cloud or gateway network (kinds
--                     $machine_network_kinds) within $network_seconds of delivery;
--   prefetch_recipient  the recipient's every delivered message (at least $prefetch_min_messages,
--                     share >= $prefetch_share) was fetched within $prefetch_seconds of delivery from
--                     a proxy or Apple network (kinds image_proxy, apple_egress, or a user agent
--                     matching $proxy_pattern: proxies with unlisted addresses), whatever the user
--                     agent; such an early fetch is the proxy's, and (like apple_mpp) the message's
--                     later opens carry no signal (message_facts.has_mpp_open);
--   image_proxy       Gmail's or Yahoo's image proxy (user agent matches $proxy_pattern): a human
--                     open relayed by the provider;
--   human             otherwise.
CREATE OR REPLACE TEMP TABLE __open_actor AS
WITH scanner_clicks AS (
    SELECT clicks.message_id, clicks.ts, n.network_key
    FROM __click_actor JOIN clicks USING (event_key)
    LEFT JOIN __event_network AS n ON n.event_type = 'click' AND n.event_key = clicks.event_key
    WHERE __click_actor.actor_rule NOT IN ('human', 'vendor_flag')
),
scanned AS (
    SELECT sc.message_id, list(DISTINCT sc.network_key) FILTER (sc.network_key IS NOT NULL) AS scanner_networks,
           any_value(coalesce(s.delivered_at, s.sent_at)) AS delivered_or_sent_at
    FROM scanner_clicks AS sc LEFT JOIN sends AS s USING (message_id)
    GROUP BY sc.message_id
),
fetch_near_click AS (  -- opens next to a machine click of the message from the same network
    SELECT DISTINCT o.event_key
    FROM opens AS o
    SEMI JOIN __scope USING (message_id)
    JOIN __event_network AS n ON n.event_type = 'open' AND n.event_key = o.event_key
    JOIN scanner_clicks AS sc
      ON sc.message_id = o.message_id AND sc.network_key = n.network_key
     AND o.ts BETWEEN sc.ts - to_seconds($fetch_near_click_seconds) AND sc.ts + to_seconds($fetch_near_click_seconds)
),
early_fetch AS (  -- per message of the recipients in scope: fetched early from a proxy / Apple network?
    SELECT s.recipient, s.message_id,
           bool_or((n.network_kind IN ('image_proxy', 'apple_egress')
                    OR regexp_matches(coalesce(o.user_agent, ''), $proxy_pattern))
                   AND o.ts <= coalesce(s.delivered_at, s.sent_at) + to_seconds($prefetch_seconds)) AS fetched
    FROM sends AS s
    LEFT JOIN opens AS o USING (message_id)
    LEFT JOIN __event_network AS n ON n.event_type = 'open' AND n.event_key = o.event_key
    WHERE s.delivered_at IS NOT NULL
      AND s.recipient IN (SELECT recipient FROM sends SEMI JOIN __scope USING (message_id))
    GROUP BY ALL
),
prefetching AS (
    SELECT recipient FROM early_fetch GROUP BY recipient
    HAVING count(*) >= $prefetch_min_messages
       AND count(*) FILTER (fetched) >= $prefetch_share * count(*)
)
SELECT o.event_key,
       CASE
         WHEN $trust_vendor_flag AND o.is_machine THEN 'vendor_flag'
         WHEN o.user_agent = $mpp_user_agent THEN 'apple_mpp'
         WHEN $mpp_by_ip AND (n.network_kind = 'apple_egress'
                              OR (n.network_kind = 'cdn'
                                  AND regexp_matches(coalesce(o.user_agent, ''), $apple_mail_ua_pattern)))
              THEN 'mpp_address'
         WHEN sc.message_id IS NOT NULL
              AND o.ts <= sc.delivered_or_sent_at + to_seconds($scanner_seconds)
              AND (NOT $same_network OR n.network_key IS NULL OR len(sc.scanner_networks) = 0
                   OR list_contains(sc.scanner_networks, n.network_key)) THEN 'scanner_prefetch'
         WHEN fc.event_key IS NOT NULL THEN 'scanner_fetch'
         WHEN list_contains($machine_network_kinds, n.network_kind)
              AND o.ts <= s.delivered_or_sent_at + to_seconds($network_seconds) THEN 'gateway_fetch'
         WHEN pf.recipient IS NOT NULL
              AND (n.network_kind IN ('image_proxy', 'apple_egress')
                   OR regexp_matches(coalesce(o.user_agent, ''), $proxy_pattern))
              AND o.ts <= s.delivered_or_sent_at + to_seconds($prefetch_seconds) THEN 'prefetch_recipient'
         WHEN regexp_matches(coalesce(o.user_agent, ''), $proxy_pattern) THEN 'image_proxy'
         ELSE 'human'
       END AS actor_rule
FROM opens AS o
SEMI JOIN __scope USING (message_id)
LEFT JOIN (SELECT message_id, recipient, coalesce(delivered_at, sent_at) AS delivered_or_sent_at FROM sends) AS s
       USING (message_id)
LEFT JOIN __event_network AS n ON n.event_type = 'open' AND n.event_key = o.event_key
LEFT JOIN scanned AS sc USING (message_id)
LEFT JOIN fetch_near_click AS fc ON fc.event_key = o.event_key
LEFT JOIN prefetching AS pf ON pf.recipient = s.recipient;
