-- Human or machine, for every click in scope; the first rule that matches fires.
-- Grain: one row per click (event_key).
-- Rules (parameters; defaults in dlvstats.classify.DEFAULT_RULES):
--   vendor_flag     the ESP's own bot flag (is_machine = true), when $trust_vendor_flag;
--   scanner_timing  the click came within $scanner_seconds of delivery (delivered_at, else sent_at)
--                   and, within $burst_seconds of it, the message got clicks on at least
--                   $scanner_min_links distinct URLs: security gateways follow every link
--                   (unsubscribe included) at once within seconds of delivery; a person reading the
--                   message as it arrives clicks one link ($scanner_min_links = 1: timing alone);
--   scanner_burst   within $burst_seconds of it, the message got clicks on at least
--                   least($burst_links, links seen for the campaign) distinct URLs (a re-scan);
--   human           otherwise.
-- is_unsubscribe_link: the URL matches $unsubscribe_pattern (regex); such clicks are never
-- engagement, whoever made them.
-- Scope: the messages in __scope (see scope.sql).
CREATE OR REPLACE TEMP TABLE __click_actor AS
WITH scoped AS (
    SELECT k.event_key, k.message_id, k.ts, k.url, k.is_machine, s.campaign_id,
           coalesce(s.delivered_at, s.sent_at) AS delivered_or_sent_at
    FROM clicks AS k
    SEMI JOIN __scope USING (message_id)
    LEFT JOIN sends AS s USING (message_id)
),
campaign_links AS (
    SELECT campaign_id, count(DISTINCT url) AS link_count
    FROM clicks JOIN sends USING (message_id)
    WHERE campaign_id IN (SELECT campaign_id FROM scoped)
    GROUP BY campaign_id
),
bursts AS (
    SELECT a.event_key, count(DISTINCT b.url) AS urls_in_window
    FROM scoped AS a
    JOIN scoped AS b
      ON a.message_id = b.message_id
     AND b.ts BETWEEN a.ts - to_seconds($burst_seconds) AND a.ts + to_seconds($burst_seconds)
    GROUP BY a.event_key
)
SELECT sc.event_key,
       CASE
         WHEN $trust_vendor_flag AND sc.is_machine THEN 'vendor_flag'
         WHEN sc.delivered_or_sent_at IS NOT NULL
              AND sc.ts >= sc.delivered_or_sent_at - INTERVAL 5 MINUTE
              AND sc.ts <= sc.delivered_or_sent_at + to_seconds($scanner_seconds)
              AND coalesce(b.urls_in_window, 1) >= $scanner_min_links THEN 'scanner_timing'
         WHEN b.urls_in_window >= greatest(2, least($burst_links, coalesce(cl.link_count, 0))) THEN 'scanner_burst'
         ELSE 'human'
       END AS actor_rule,
       coalesce(regexp_matches(sc.url, $unsubscribe_pattern), false) AS is_unsubscribe_link
FROM scoped AS sc
LEFT JOIN bursts AS b USING (event_key)
LEFT JOIN campaign_links AS cl USING (campaign_id);
