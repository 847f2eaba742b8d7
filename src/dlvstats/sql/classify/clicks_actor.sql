-- Human or machine, for every click in scope; the first rule that matches fires.
-- Grain: one row per click (event_key). Needs __event_network (networks/match.sql).
-- Rules (parameters; defaults in dlvstats.classify.DEFAULT_RULES; evidence in docs/classification.md):
--   vendor_flag       the ESP's own bot flag (is_machine = true), when $trust_vendor_flag;
--   click_before_read the click came less than $min_read_seconds after delivery (delivered_at, else
--                     sent_at; up to 5 minutes before it, for clock skew): faster than anyone can
--                     open a message and choose a link;
--   scanner_timing    the click came within $scanner_seconds of delivery and, within $burst_seconds
--                     of it, the message got clicks on at least $scanner_min_links distinct URLs:
--                     security gateways follow every link (unsubscribe included) at once; a person
--                     reading the message as it arrives clicks one ($scanner_min_links = 1: timing alone);
--   scanner_network   the click came from a listed cloud or security-gateway network (networks
--                     snapshot, kinds $machine_network_kinds) within $network_seconds of delivery;
--   repeat_scan       the click came within $network_seconds of delivery from a network (listed
--                     network, else the /16) that, over the messages delivered in the same calendar
--                     month (UTC), clicked that early on messages of at least $rescan_min_recipients
--                     distinct recipients, with at least $rescan_share of its clicks on them that
--                     early: a scanner working through campaigns (one link each, minutes late, from
--                     an unlisted hosting network); people on one ISP or mobile network click over
--                     hours and days, so most of their network's clicks are late;
--   scanner_burst     within $burst_seconds of it, the message got clicks on at least
--                     greatest($burst_min_links, least($burst_links, links seen for the campaign)) distinct
--                     URLs (a re-scan);
--   scanner_same_network  the message has a click labelled machine by one of the rules above from
--                     the same network (listed network, else the /16) — a gateway's pool of addresses
--                     clicking again, or late; never the same address;
--   human             otherwise. A person clicking one link the minute the message arrives, from a
--                     residential or mobile network, matches none of these.
-- is_unsubscribe_link: the URL matches $unsubscribe_pattern (regex); such clicks are never
-- engagement, whoever made them.
-- Scope: the messages in __scope (see scope.sql; with a drop it holds every clicked message delivered
-- in a month that got new clicks, so repeat_scan counts a month's clicks whole).
CREATE OR REPLACE TEMP TABLE __click_actor AS
WITH scoped AS (
    SELECT k.event_key, k.message_id, k.ts, k.url, k.is_machine, s.campaign_id, s.recipient,
           coalesce(s.delivered_at, s.sent_at) AS delivered_or_sent_at,
           n.network_kind, n.network_key
    FROM clicks AS k
    SEMI JOIN __scope USING (message_id)
    LEFT JOIN sends AS s USING (message_id)
    LEFT JOIN __event_network AS n ON n.event_type = 'click' AND n.event_key = k.event_key
),
timed AS (
    SELECT *, delivered_or_sent_at IS NOT NULL
              AND ts >= delivered_or_sent_at - INTERVAL 5 MINUTE
              AND ts <= delivered_or_sent_at + to_seconds($network_seconds) AS is_early
    FROM scoped
),
scanning_networks AS (  -- (delivery month, network) pairs of a network scanning that month: repeat_scan
    SELECT date_trunc('month', delivered_or_sent_at) AS delivery_month, network_key FROM timed
    WHERE network_key IS NOT NULL AND delivered_or_sent_at IS NOT NULL
    GROUP BY ALL
    HAVING count(DISTINCT recipient) FILTER (is_early) >= $rescan_min_recipients
       AND count(*) FILTER (is_early) >= $rescan_share * count(*)
),
campaign_links AS (
    SELECT campaign_id, count(DISTINCT url) AS link_count
    FROM clicks JOIN sends USING (message_id)
    WHERE campaign_id IN (SELECT campaign_id FROM scoped)
    GROUP BY campaign_id
),
bursts AS (
    SELECT a.event_key, count(DISTINCT b.url) AS urls_in_window
    FROM timed AS a
    JOIN timed AS b
      ON a.message_id = b.message_id
     AND b.ts BETWEEN a.ts - to_seconds($burst_seconds) AND a.ts + to_seconds($burst_seconds)
    GROUP BY a.event_key
),
first_pass AS (
    SELECT sc.*,
           CASE
             WHEN $trust_vendor_flag AND sc.is_machine THEN 'vendor_flag'
             WHEN sc.delivered_or_sent_at IS NOT NULL
                  AND sc.ts >= sc.delivered_or_sent_at - INTERVAL 5 MINUTE
                  AND sc.ts < sc.delivered_or_sent_at + to_seconds($min_read_seconds) THEN 'click_before_read'
             WHEN sc.delivered_or_sent_at IS NOT NULL
                  AND sc.ts >= sc.delivered_or_sent_at - INTERVAL 5 MINUTE
                  AND sc.ts <= sc.delivered_or_sent_at + to_seconds($scanner_seconds)
                  AND coalesce(b.urls_in_window, 1) >= $scanner_min_links THEN 'scanner_timing'
             WHEN sc.delivered_or_sent_at IS NOT NULL
                  AND list_contains($machine_network_kinds, sc.network_kind)
                  AND sc.ts >= sc.delivered_or_sent_at - INTERVAL 5 MINUTE
                  AND sc.ts <= sc.delivered_or_sent_at + to_seconds($network_seconds) THEN 'scanner_network'
             WHEN sc.is_early AND sn.network_key IS NOT NULL THEN 'repeat_scan'
             WHEN b.urls_in_window >= greatest($burst_min_links, least($burst_links, coalesce(cl.link_count, 0))) THEN 'scanner_burst'
             ELSE 'human'
           END AS first_rule
    FROM timed AS sc
    LEFT JOIN bursts AS b USING (event_key)
    LEFT JOIN scanning_networks AS sn
           ON sn.network_key = sc.network_key AND sn.delivery_month = date_trunc('month', sc.delivered_or_sent_at)
    LEFT JOIN campaign_links AS cl USING (campaign_id)
),
machine_networks AS (
    SELECT DISTINCT message_id, network_key FROM first_pass
    WHERE first_rule <> 'human' AND network_key IS NOT NULL
)
SELECT fp.event_key,
       CASE
         WHEN fp.first_rule <> 'human' THEN fp.first_rule
         WHEN $same_network AND mn.message_id IS NOT NULL THEN 'scanner_same_network'
         ELSE 'human'
       END AS actor_rule,
       coalesce(regexp_matches(fp.url, $unsubscribe_pattern), false) AS is_unsubscribe_link
FROM first_pass AS fp
LEFT JOIN machine_networks AS mn USING (message_id, network_key);
