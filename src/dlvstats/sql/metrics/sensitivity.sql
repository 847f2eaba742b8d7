-- sensitivity: the headline engagement rates under the labels of one rule set, previewed by
-- classify.classify_preview into temp tables __open_actor and __click_actor (nothing stored changes).
-- Runs in the scratch database of sensitivity_base.sql (tables people, sends, opens, clicks of the
-- period and account, and their integer keys people_keys, msg_keys, open_keys, click_keys).
-- Grain: one row (the period, all or one account) for the rule set just previewed.
-- Public columns (numerator / denominator), counted in messages unless said otherwise:
--   human_open_rate     delivered messages with a human open (image proxies included) / delivered;
--   human_click_rate    delivered messages with a human click on a content link (not unsubscribe or
--                       preferences) / delivered;
--   machine_open_share  delivered messages with a machine open / delivered messages with any open;
--   bot_click_share     machine clicks / all clicks on delivered messages (events, as vendors quote it);
--   measured_open_rate  human-opened messages without a machine open / delivered messages without a
--                       machine open;
--   machine_opens, human_opens, machine_clicks, human_clicks: event counts.
-- Intervals: R__num/den/y2/yn/n2/k sums per recipient for metrics.common.finish_rates.
WITH open_labels AS (
    SELECT o.msg,
           count(*) AS opens,
           count(*) FILTER (a.actor_rule NOT IN ('human', 'image_proxy')) AS machine_opens,
           count(*) FILTER (a.actor_rule IN ('human', 'image_proxy')) AS human_opens
    FROM __open_actor AS a JOIN open_keys AS o USING (event_key)
    GROUP BY o.msg
),
click_labels AS (
    SELECT k.msg,
           count(*) AS clicks,
           count(*) FILTER (a.actor_rule <> 'human') AS machine_clicks,
           count(*) FILTER (a.actor_rule = 'human') AS human_clicks,
           count(*) FILTER (a.actor_rule = 'human' AND NOT a.is_unsubscribe_link) AS human_content_clicks
    FROM __click_actor AS a JOIN click_keys AS k USING (event_key)
    GROUP BY k.msg
),
per_message AS (
    SELECT s.pid,
           coalesce(o.opens, 0) > 0 AS has_open,
           coalesce(o.machine_opens, 0) > 0 AS has_machine_open,
           coalesce(o.human_opens, 0) > 0 AS has_human_open,
           coalesce(k.human_content_clicks, 0) > 0 AS has_human_click,
           coalesce(o.machine_opens, 0) AS machine_opens, coalesce(o.human_opens, 0) AS human_opens,
           coalesce(k.clicks, 0) AS clicks, coalesce(k.machine_clicks, 0) AS machine_clicks,
           coalesce(k.human_clicks, 0) AS human_clicks
    FROM msg_keys AS s
    LEFT JOIN open_labels AS o USING (msg)
    LEFT JOIN click_labels AS k USING (msg)
),
per_person_events AS (
    SELECT pid,
           count(*) FILTER (has_open) AS n_opened,
           count(*) FILTER (has_human_open) AS y_human_open,
           count(*) FILTER (has_human_click) AS y_human_click,
           count(*) FILTER (has_machine_open) AS y_machine_open,
           count(*) FILTER (has_human_open AND NOT has_machine_open) AS y_measurable_open,
           sum(clicks) AS n_clicks, sum(machine_clicks) AS y_machine_clicks,
           sum(machine_opens) AS machine_opens, sum(human_opens) AS human_opens,
           sum(human_clicks) AS human_clicks
    FROM per_message
    GROUP BY pid
),
per_person AS (
    SELECT p.n_delivered,
           p.n_delivered - coalesce(e.y_machine_open, 0) AS n_measurable,
           coalesce(e.n_opened, 0) AS n_opened, coalesce(e.y_human_open, 0) AS y_human_open,
           coalesce(e.y_human_click, 0) AS y_human_click, coalesce(e.y_machine_open, 0) AS y_machine_open,
           coalesce(e.y_measurable_open, 0) AS y_measurable_open, coalesce(e.n_clicks, 0) AS n_clicks,
           coalesce(e.y_machine_clicks, 0) AS y_machine_clicks, coalesce(e.machine_opens, 0) AS machine_opens,
           coalesce(e.human_opens, 0) AS human_opens, coalesce(e.human_clicks, 0) AS human_clicks
    FROM people AS p
    JOIN people_keys AS pk USING (recipient)
    LEFT JOIN per_person_events AS e ON e.pid = pk.pid
)
SELECT sum(n_delivered) AS delivered,
       sum(machine_opens) AS machine_opens, sum(human_opens) AS human_opens,
       sum(y_machine_clicks) AS machine_clicks, sum(human_clicks) AS human_clicks,
       sum(y_human_open) AS human_openers, sum(y_human_click) AS human_clickers,
       sum(y_human_open) AS human_open_rate__num, sum(n_delivered) AS human_open_rate__den,
       sum(y_human_open * y_human_open) AS human_open_rate__y2, sum(y_human_open * n_delivered) AS human_open_rate__yn,
       sum(n_delivered * n_delivered) AS human_open_rate__n2, count(*) AS human_open_rate__k,
       sum(y_human_click) AS human_click_rate__num, sum(n_delivered) AS human_click_rate__den,
       sum(y_human_click * y_human_click) AS human_click_rate__y2, sum(y_human_click * n_delivered) AS human_click_rate__yn,
       sum(n_delivered * n_delivered) AS human_click_rate__n2, count(*) AS human_click_rate__k,
       sum(y_machine_open) AS machine_open_share__num, sum(n_opened) AS machine_open_share__den,
       sum(y_machine_open * y_machine_open) AS machine_open_share__y2, sum(y_machine_open * n_opened) AS machine_open_share__yn,
       sum(n_opened * n_opened) AS machine_open_share__n2, count(*) FILTER (n_opened > 0) AS machine_open_share__k,
       sum(y_machine_clicks) AS bot_click_share__num, sum(n_clicks) AS bot_click_share__den,
       sum(y_machine_clicks * y_machine_clicks) AS bot_click_share__y2, sum(y_machine_clicks * n_clicks) AS bot_click_share__yn,
       sum(n_clicks * n_clicks) AS bot_click_share__n2, count(*) FILTER (n_clicks > 0) AS bot_click_share__k,
       sum(y_measurable_open) AS measured_open_rate__num, sum(n_measurable) AS measured_open_rate__den,
       sum(y_measurable_open * y_measurable_open) AS measured_open_rate__y2,
       sum(y_measurable_open * n_measurable) AS measured_open_rate__yn,
       sum(n_measurable * n_measurable) AS measured_open_rate__n2,
       count(*) FILTER (n_measurable > 0) AS measured_open_rate__k
FROM per_person;
