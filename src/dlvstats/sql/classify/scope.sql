-- The messages whose opens and clicks are (re)classified: every message when $scope_drop_id is
-- NULL, else those touched by that drop (new opens, clicks, or a send whose delivery time changed).
-- When $scope_from/$scope_to are given (previews for the sensitivity table), only messages sent in
-- [$scope_from, $scope_to) are kept, so a preview costs what the period costs.
-- With a drop, also every clicked message delivered (else sent) in a UTC month in which a message got
-- new clicks: the repeat_scan rule (clicks_actor.sql) counts a month's clicks whole, so a later drop
-- can change earlier labels (a refresh labels as a full rebuild does).
-- Grain: one row per message_id.
CREATE OR REPLACE TEMP TABLE __scope AS
WITH touched AS (
    SELECT message_id FROM clicks WHERE $scope_drop_id IS NULL OR drop_id = $scope_drop_id
    UNION SELECT message_id FROM opens WHERE $scope_drop_id IS NULL OR drop_id = $scope_drop_id
    UNION SELECT message_id FROM sends WHERE $scope_drop_id IS NOT NULL AND drop_id = $scope_drop_id
),
clicked_months AS (
    SELECT DISTINCT date_trunc('month', coalesce(s.delivered_at, s.sent_at)) AS delivery_month
    FROM clicks JOIN sends AS s USING (message_id)
    WHERE $scope_drop_id IS NOT NULL AND clicks.drop_id = $scope_drop_id
),
widened AS (
    SELECT message_id FROM touched
    UNION SELECT DISTINCT k.message_id FROM clicks AS k JOIN sends AS s USING (message_id)
    WHERE date_trunc('month', coalesce(s.delivered_at, s.sent_at)) IN (SELECT delivery_month FROM clicked_months)
)
SELECT message_id FROM widened
WHERE $scope_from IS NULL
   OR message_id IN (SELECT message_id FROM sends
                     WHERE sent_at >= $scope_from AND sent_at < $scope_to);
