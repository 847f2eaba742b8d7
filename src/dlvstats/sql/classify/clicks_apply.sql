-- Store the labels computed by clicks_actor.sql (temp table __click_actor) on `clicks`.
-- Grain: one row per click in scope. Run only by classify.classify(), never by a preview
-- (previews run on read-only connections, where UPDATE is refused).
UPDATE clicks SET
    actor = CASE WHEN a.actor_rule = 'human' THEN 'human' ELSE 'machine' END,
    actor_rule = a.actor_rule,
    is_unsubscribe_link = a.is_unsubscribe_link
FROM __click_actor AS a
WHERE clicks.event_key = a.event_key;
