-- Rejected input rows by file, kind and reason (the raw text stays in `rejects`, never shown here:
-- it may hold recipient addresses). Grain: one row per (drop_id, kind, file, first reason word).
SELECT drop_id, kind, file, split_part(reason, ';', 1) AS reason, count(*) AS row_count,
       min(line) AS first_line
FROM rejects GROUP BY ALL ORDER BY drop_id, kind, file, row_count DESC;
