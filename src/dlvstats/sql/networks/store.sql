-- Keep the networks just loaded (temp __networks, load.sql) in the database, so classification
-- re-labels with the same ranges until the user loads others. Grain: as __networks.
CREATE OR REPLACE TABLE networks AS SELECT * FROM __networks;
