-- hidden_images_click_check: do readers whose images stay off click as often as the others?
-- The estimator assumes they do (the click and the pixel are independent captures of a reader). The
-- check: each person with a human content click is classed by their FIRST clicked message (in the
-- period, among messages without a machine open): 'proven blocked' when that click came with no
-- human open (the person's images were off at least once), else 'other' (people whose images load,
-- and blocked people whose pixel happened to load that time). On the person's OTHER messages, the
-- share of human opens followed by a human content click (click-to-open) measures how often they
-- click when they read: within one person, whether the pixel loads on a message does not depend on
-- the click, so the opened messages stand for the person's reads. Both classes are chosen by the
-- same event (a first click), so under the assumption they click alike; when blocked readers click
-- r times as often, 'proven blocked' people click more (r diluted by the blocked people in 'other').
-- Compared within each stratum of the read estimator (provider x reading device: a desktop client
-- that blocks images and clicks more is the estimator's own strata, not a violation); pooled in
-- read_estimator.click_ratio_check.
-- Grain: one row per (provider, device, proven_blocked) with people in that class.
-- Needs: temp table __reader_device (relations/reader_device.sql), built for the same period.
-- Parameters: $date_from, $date_to (half-open, UTC, sent_at), $account_id (NULL = all).
-- Columns: people; opens (their other messages with a human open); open_clicks (of those, with a
--   human content click); y2 = sum over people of open_clicks^2, yn = sum(open_clicks * opens),
--   n2 = sum(opens^2) (the cluster-robust variance of the ratio, clustered by person).
WITH m AS (
    SELECT hash(account_id, recipient) AS person, coalesce(provider, 'other') AS provider,
           message_id, sent_at, has_human_open AS o, has_human_click AS c
    FROM message_facts
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
      AND is_delivered AND NOT has_machine_open
),
first_click AS (
    SELECT person, arg_min(message_id, (sent_at, message_id)) AS ref_id,
           arg_min(NOT o, (sent_at, message_id)) AS proven_blocked
    FROM m WHERE c
    GROUP BY person
),
per_person AS (
    SELECT m.provider, coalesce(rd.device, 'unknown') AS device, f.proven_blocked, m.person,
           count(*) FILTER (m.o) AS opens, count(*) FILTER (m.o AND m.c) AS open_clicks
    FROM m
    JOIN first_click AS f ON f.person = m.person
    LEFT JOIN __reader_device AS rd ON rd.person = m.person
    WHERE m.message_id <> f.ref_id
    GROUP BY ALL
)
SELECT provider, device, proven_blocked, count(*) AS people,
       sum(opens) AS opens, sum(open_clicks) AS open_clicks,
       sum(open_clicks * open_clicks) AS y2, sum(open_clicks * opens) AS yn, sum(opens * opens) AS n2
FROM per_person
GROUP BY ALL
ORDER BY provider, device, proven_blocked;
