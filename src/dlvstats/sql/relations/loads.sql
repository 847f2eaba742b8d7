-- Loads: one row per ingest (drop), with the per-kind accounting recorded at load time.
-- Grain: one row per (drop_id, kind). read = loaded + updated + duplicates + rejected.
SELECT d.drop_id, d.loaded_at, d.input_format, d.timezone, d.on_error, k.kind,
       CAST(json_extract(d.summary_json, '$.kinds.' || k.kind || '.read') AS BIGINT) AS read_rows,
       CAST(json_extract(d.summary_json, '$.kinds.' || k.kind || '.loaded') AS BIGINT) AS loaded_rows,
       CAST(json_extract(d.summary_json, '$.kinds.' || k.kind || '.updated') AS BIGINT) AS updated_rows,
       CAST(json_extract(d.summary_json, '$.kinds.' || k.kind || '.duplicates') AS BIGINT) AS duplicate_rows,
       CAST(json_extract(d.summary_json, '$.kinds.' || k.kind || '.rejected') AS BIGINT) AS rejected_rows
FROM drops AS d,
     (SELECT unnest(json_keys(summary_json, '$.kinds')) AS kind, drop_id FROM drops) AS k
WHERE k.drop_id = d.drop_id
ORDER BY d.drop_id, k.kind;
