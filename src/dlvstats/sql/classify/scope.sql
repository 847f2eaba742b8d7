-- The messages whose opens and clicks are (re)classified: every message when $scope_drop_id is
-- NULL, else those touched by that drop (new opens, clicks, or a send whose delivery time changed).
-- Grain: one row per message_id.
CREATE OR REPLACE TEMP TABLE __scope AS
SELECT message_id FROM clicks WHERE $scope_drop_id IS NULL OR drop_id = $scope_drop_id
UNION SELECT message_id FROM opens WHERE $scope_drop_id IS NULL OR drop_id = $scope_drop_id
UNION SELECT message_id FROM sends WHERE $scope_drop_id IS NOT NULL AND drop_id = $scope_drop_id;
