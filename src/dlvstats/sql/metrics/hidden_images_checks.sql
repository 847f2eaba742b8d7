-- hidden_images_checks: the estimator's assumption, checked where the data allow.
-- The estimator assumes that people who click load images like all readers do, so that
-- image_blocked_share measured on clickers holds for every reader. If that held, other groups of
-- proven readers should show the same share without an open. This table measures it for:
--   'content click (the estimator)'  a human click on a content link;
--   'unsubscribe click only'         a human click on the unsubscribe/preferences link and no
--                                    content click: readers who are not engaged clickers;
--   'content click within 1 h' / 'content click after 1 h'  by the first human click's delay
--                                    after delivery (delivered_at, else sent_at);
--   'one content click' / 'several content clicks'  by the number of human content clicks;
-- each per provider and over all the providers given ('all').
-- Grain: one row per (evidence, provider).
-- Parameters: $date_from, $date_to (half-open, UTC, sent_at), $account_id (NULL = all),
--   $providers LIST of providers to include (NULL = all; pass the measurable ones).
-- Population: delivered messages without a machine open.
-- Columns: readers (messages with that evidence), readers_without_open (no human open),
--   share_without_open = readers_without_open / readers (R__* sums per recipient for the interval).
WITH base AS (
    SELECT provider, recipient, has_human_open, has_human_click, has_unsubscribe_click,
           human_click_count,
           date_diff('second', coalesce(delivered_at, sent_at), first_human_click_at) AS click_delay_s
    FROM message_facts
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
      AND ($providers IS NULL OR list_contains($providers, provider))
      AND is_delivered AND NOT has_machine_open
      AND (has_human_click OR has_unsubscribe_click)
),
evidence AS (
    SELECT 1 AS evidence_order, 'content click (the estimator)' AS evidence, * FROM base WHERE has_human_click
    UNION ALL
    SELECT 2, 'unsubscribe click only', * FROM base WHERE has_unsubscribe_click AND NOT has_human_click
    UNION ALL
    SELECT 3, 'content click within 1 h', * FROM base WHERE has_human_click AND click_delay_s < 3600
    UNION ALL
    SELECT 4, 'content click after 1 h', * FROM base WHERE has_human_click AND click_delay_s >= 3600
    UNION ALL
    SELECT 5, 'one content click', * FROM base WHERE has_human_click AND human_click_count = 1
    UNION ALL
    SELECT 6, 'several content clicks', * FROM base WHERE has_human_click AND human_click_count > 1
),
per_person AS (
    SELECT evidence_order, evidence, provider, recipient,
           count(*) AS n, count(*) FILTER (NOT has_human_open) AS y
    FROM evidence
    GROUP BY ALL
)
SELECT evidence_order, evidence, CASE WHEN grouping(provider) = 1 THEN 'all' ELSE provider END AS provider,
       sum(n) AS readers, sum(y) AS readers_without_open,
       sum(y) AS share_without_open__num, sum(n) AS share_without_open__den,
       sum(y * y) AS share_without_open__y2, sum(y * n) AS share_without_open__yn,
       sum(n * n) AS share_without_open__n2, count(*) AS share_without_open__k
FROM per_person
GROUP BY GROUPING SETS ((evidence_order, evidence, provider), (evidence_order, evidence))
ORDER BY evidence_order, grouping(provider) DESC, readers DESC;
