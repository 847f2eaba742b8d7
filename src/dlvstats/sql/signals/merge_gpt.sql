-- signals/merge_gpt: add a checked Google Postmaster Tools file (__signals_frame) to gpt_domain_stats.
-- Grain: one row per (domain, day, metric). Rules: keys repeated within a file were refused before (signals.py); a key already stored adds nothing (the same
-- file imported twice adds nothing the second time; the first import's value is kept).
-- Returns: the number of rows added.
CREATE OR REPLACE TEMP TABLE __gpt_new AS
SELECT n.domain, CAST(n.day AS DATE) AS day, n.metric, n.source_metric, CAST(n.value AS DOUBLE) AS value,
       CAST(n.value_text AS VARCHAR) AS value_text, n.file, CAST(n.imported_at AS TIMESTAMP) AS imported_at
FROM __signals_frame AS n
ANTI JOIN gpt_domain_stats AS s ON s.domain = n.domain AND s.day = CAST(n.day AS DATE) AND s.metric = n.metric;

INSERT INTO gpt_domain_stats (domain, day, metric, source_metric, value, value_text, file, imported_at)
SELECT * FROM __gpt_new;

SELECT count(*) FROM __gpt_new;
