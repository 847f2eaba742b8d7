-- hidden_images_opener_clients: which mail clients the human openers used, from the user agent of
-- the first human open. Only readers who opened can be broken down this way (a blocked reader
-- fetches no pixel), and Gmail's and Yahoo's image proxies hide the client behind their own agent.
-- Grain: one row per client label.
-- Parameters: $date_from, $date_to (half-open, UTC, sent_at), $account_id (NULL = all),
--   $providers LIST of providers to include (NULL = all).
-- Population: delivered messages without a machine open that have a human open.
-- Columns: measurable_human_openers (messages); share_of_openers = measurable_human_openers / all human openers of the
--   population (R__* sums per recipient for the interval).
-- Labels (RE2, first match wins): GoogleImageProxy|ggpht -> 'Gmail image proxy (client hidden)';
--   YahooMailProxy -> 'Yahoo image proxy (client hidden)'; Microsoft Outlook|MSOffice|ms-office|
--   Outlook- -> 'Outlook'; Thunderbird; a browser token (Chrome/, Firefox/, Safari/, Edg/) ->
--   'web browser (webmail)'; iPhone|iPad -> 'Apple Mail (iOS)'; Macintosh -> 'Apple Mail (macOS)';
--   Android -> 'Android mail app'; no agent -> 'no user agent'; else 'other'.
WITH opened AS (
    SELECT recipient, coalesce(first_human_open_user_agent, '') AS ua
    FROM message_facts
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
      AND ($providers IS NULL OR list_contains($providers, provider))
      AND is_delivered AND NOT has_machine_open AND has_human_open
),
labelled AS (
    SELECT recipient,
           CASE WHEN ua = '' THEN 'no user agent'
                WHEN regexp_matches(ua, 'GoogleImageProxy|ggpht') THEN 'Gmail image proxy (client hidden)'
                WHEN regexp_matches(ua, 'YahooMailProxy') THEN 'Yahoo image proxy (client hidden)'
                WHEN regexp_matches(ua, 'Microsoft Outlook|MSOffice|ms-office|Outlook-') THEN 'Outlook'
                WHEN regexp_matches(ua, 'Thunderbird') THEN 'Thunderbird'
                WHEN regexp_matches(ua, 'Chrome/|Firefox/|Safari/|Edg/') THEN 'web browser (webmail)'
                WHEN regexp_matches(ua, 'iPhone|iPad') THEN 'Apple Mail (iOS)'
                WHEN regexp_matches(ua, 'Macintosh') THEN 'Apple Mail (macOS)'
                WHEN regexp_matches(ua, 'Android') THEN 'Android mail app'
                ELSE 'other' END AS client
    FROM opened
),
per_person_client AS (
    SELECT recipient, client, count(*) AS y FROM labelled GROUP BY recipient, client
),
persons AS (SELECT recipient, sum(y) AS n FROM per_person_client GROUP BY recipient),
per_person AS (
    SELECT pc.recipient, pc.client, pc.y, ps.n
    FROM per_person_client AS pc JOIN persons AS ps USING (recipient)
),
-- every person counts in every client's denominator (y = 0 where they did not use that client)
totals AS (SELECT count(*) AS k, sum(n) AS n_total, sum(n * n) AS n2 FROM persons)
SELECT p.client,
       sum(p.y) AS measurable_human_openers,
       sum(p.y) AS share_of_openers__num, any_value(t.n_total) AS share_of_openers__den,
       sum(p.y * p.y) AS share_of_openers__y2, sum(p.y * p.n) AS share_of_openers__yn,
       any_value(t.n2) AS share_of_openers__n2, any_value(t.k) AS share_of_openers__k
FROM per_person AS p CROSS JOIN totals AS t
GROUP BY p.client
ORDER BY measurable_human_openers DESC, p.client;
