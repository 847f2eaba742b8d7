-- signals/merge_snds: add a checked Microsoft SNDS IP data file (__signals_frame) to snds_ip_days.
-- Grain: one row per (ip, activity_start). Rules: keys repeated within a file were refused before (signals.py); a key already stored adds nothing.
-- Returns: the number of rows added.
CREATE OR REPLACE TEMP TABLE __snds_new AS
SELECT n.ip, CAST(n.activity_start AS TIMESTAMP) AS activity_start, CAST(n.activity_end AS TIMESTAMP) AS activity_end,
       n.rcpt_commands, n.data_commands, n.message_recipients, n.filter_result, CAST(n.complaint_rate AS DOUBLE) AS complaint_rate, n.complaint_rate_text,
       CAST(n.trap_start AS TIMESTAMP) AS trap_start, CAST(n.trap_end AS TIMESTAMP) AS trap_end, n.trap_hits,
       CAST(n.sample_helo AS VARCHAR) AS sample_helo, n.file, n.line, CAST(n.imported_at AS TIMESTAMP) AS imported_at
FROM __signals_frame AS n
ANTI JOIN snds_ip_days AS s ON s.ip = n.ip AND s.activity_start = CAST(n.activity_start AS TIMESTAMP);

INSERT INTO snds_ip_days SELECT * FROM __snds_new;

SELECT count(*) FROM __snds_new;
