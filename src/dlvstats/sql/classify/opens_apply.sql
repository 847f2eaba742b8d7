-- Store the labels computed by opens_actor.sql (temp table __open_actor) on `opens`.
-- Grain: one row per open in scope. Run only by classify.classify(), never by a preview
-- (previews run on read-only connections, where UPDATE is refused).
UPDATE opens SET
    actor = CASE WHEN a.actor_rule IN ('human', 'image_proxy') THEN 'human' ELSE 'machine' END,
    actor_rule = a.actor_rule
FROM __open_actor AS a
WHERE opens.event_key = a.event_key;
