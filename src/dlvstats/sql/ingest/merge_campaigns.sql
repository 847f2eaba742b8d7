-- Insert staged campaigns not stored yet. Grain: one row per campaign_id; the first seen wins.
-- Parameters: $drop_id.
INSERT INTO campaigns
SELECT campaign_id, account_id, list_id, sent_at, kind, name, subject, $drop_id
FROM __new_campaigns AS n
ANTI JOIN campaigns AS existing ON existing.campaign_id = n.campaign_id;
