-- hidden_images_by_device: image-blocked share by the device and OS of the click.
-- Grain: one row per (device_os, form_factor) of the first human content click's user agent.
-- Blocked readers fetch no pixel, so their only user agent is the click's (the browser their mail
-- client handed the link to); this is why the breakdown is by clicking device, not by mail client.
-- Parameters: $date_from, $date_to (half-open, UTC, sent_at), $account_id (NULL = all),
--   $providers LIST of providers to include (NULL = all; pass the measurable ones).
-- Population: delivered messages without a machine open that have a human content click.
-- Columns (numerator / denominator, in messages):
--   measurable_human_clickers          messages of this device with a human content click;
--   measurable_clickers_without_open   of those, the ones with no human open;
--   image_blocked_share     measurable_clickers_without_open / measurable_human_clickers (R__* sums for the interval);
--   share_of_clickers       measurable_human_clickers / all measurable_human_clickers of the population.
-- User-agent parsing (RE2, first match wins): iPhone|iPod -> iOS; iPad -> iPadOS; Android; Windows;
-- Macintosh|Mac OS X -> macOS; CrOS -> ChromeOS; Linux|X11 -> Linux; else other. form_factor: iPad or
-- Android without 'Mobile' -> tablet; iPhone|iPod|Mobile -> phone; else desktop.
WITH clicked AS (
    SELECT recipient, has_human_open, coalesce(first_human_click_user_agent, '') AS ua
    FROM message_facts
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
      AND ($providers IS NULL OR list_contains($providers, provider))
      AND is_delivered AND NOT has_machine_open AND has_human_click
),
labelled AS (
    SELECT recipient, has_human_open,
           CASE WHEN ua = '' THEN 'no user agent'
                WHEN regexp_matches(ua, 'iPhone|iPod') THEN 'iOS'
                WHEN regexp_matches(ua, 'iPad') THEN 'iPadOS'
                WHEN regexp_matches(ua, 'Android') THEN 'Android'
                WHEN regexp_matches(ua, 'Windows') THEN 'Windows'
                WHEN regexp_matches(ua, 'Macintosh|Mac OS X') THEN 'macOS'
                WHEN regexp_matches(ua, 'CrOS') THEN 'ChromeOS'
                WHEN regexp_matches(ua, 'Linux|X11') THEN 'Linux'
                ELSE 'other' END AS device_os,
           CASE WHEN ua = '' THEN 'unknown'
                WHEN regexp_matches(ua, 'iPad') OR (regexp_matches(ua, 'Android') AND NOT regexp_matches(ua, 'Mobile'))
                     THEN 'tablet'
                WHEN regexp_matches(ua, 'iPhone|iPod|Mobile') THEN 'phone'
                ELSE 'desktop' END AS form_factor
    FROM clicked
),
per_person AS (
    SELECT device_os, form_factor, recipient,
           count(*) AS c, count(*) FILTER (NOT has_human_open) AS u
    FROM labelled
    GROUP BY ALL
)
SELECT device_os, form_factor,
       sum(c) AS measurable_human_clickers,
       sum(u) AS measurable_clickers_without_open,
       sum(c) / sum(sum(c)) OVER () AS share_of_clickers,
       sum(u) AS image_blocked_share__num, sum(c) AS image_blocked_share__den,
       sum(u * u) AS image_blocked_share__y2, sum(u * c) AS image_blocked_share__yn,
       sum(c * c) AS image_blocked_share__n2, count(*) AS image_blocked_share__k
FROM per_person
GROUP BY ALL
ORDER BY measurable_human_clickers DESC, device_os, form_factor;
