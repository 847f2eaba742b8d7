-- The lake's opens and clicks as classify.classify() leaves them after labelling a drop: the views
-- `opens` and `clicks` over the stored rows (__lake_opens, __lake_clicks) with the labels of
-- __open_actor / __click_actor (classify.label_drop) in place of the stored ones. The same rules as
-- opens_apply.sql and clicks_apply.sql, which store them in a database; here the Spark ingest job
-- (dlvstats.spark_ingest) reads them to refresh message_facts and writes them into the month partitions.
-- Grain: one row per stored open / click.
CREATE OR REPLACE VIEW opens AS
SELECT o.* REPLACE (
           CASE WHEN a.event_key IS NULL THEN o.actor
                WHEN a.actor_rule IN ('human', 'image_proxy') THEN 'human' ELSE 'machine' END AS actor,
           CASE WHEN a.event_key IS NULL THEN o.actor_rule ELSE a.actor_rule END AS actor_rule)
FROM __lake_opens AS o
LEFT JOIN __open_actor AS a USING (event_key);

CREATE OR REPLACE VIEW clicks AS
SELECT k.* REPLACE (
           CASE WHEN a.event_key IS NULL THEN k.actor
                WHEN a.actor_rule = 'human' THEN 'human' ELSE 'machine' END AS actor,
           CASE WHEN a.event_key IS NULL THEN k.actor_rule ELSE a.actor_rule END AS actor_rule,
           CASE WHEN a.event_key IS NULL THEN k.is_unsubscribe_link ELSE a.is_unsubscribe_link END
               AS is_unsubscribe_link)
FROM __lake_clicks AS k
LEFT JOIN __click_actor AS a USING (event_key);
