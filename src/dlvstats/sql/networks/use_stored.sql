-- Classification matches against temp __networks: here a copy of the stored `networks` table.
-- Grain: as networks.
CREATE OR REPLACE TEMP TABLE __networks AS SELECT * FROM networks;
