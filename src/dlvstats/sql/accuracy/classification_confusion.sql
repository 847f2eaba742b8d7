-- classification_confusion: the human/machine labels of the stored events against a simulator's truth.
-- Grain: one row per (kind, truly_machine, labelled_machine), kind in ('opens', 'clicks'), over every
-- stored open and click that has an event_id (the simulator gives every event one).
-- Parameters: $truth_file  the simulator's truth_machine_events.csv.gz (kind,event_id,machine_type):
--                          every machine open and click by event_id; every other event is a person's.
-- Rules: truly_machine = the event_id is listed in the truth file under the same kind;
--        labelled_machine = the stored actor is 'machine' (classify.DEFAULT_RULES at ingest).
-- Columns: kind, truly_machine, labelled_machine, events (count).
WITH truth AS (
    SELECT DISTINCT CASE WHEN kind IN ('open', 'opens') THEN 'opens' ELSE 'clicks' END AS kind, event_id
    FROM read_csv($truth_file, header = true, columns = {'kind': 'VARCHAR', 'event_id': 'VARCHAR',
                                                        'machine_type': 'VARCHAR'})
),
events AS (
    SELECT 'opens' AS kind, event_id, actor FROM opens WHERE event_id IS NOT NULL
    UNION ALL
    SELECT 'clicks' AS kind, event_id, actor FROM clicks WHERE event_id IS NOT NULL
)
SELECT e.kind, t.event_id IS NOT NULL AS truly_machine, coalesce(e.actor = 'machine', false) AS labelled_machine,
       count(*) AS events
FROM events AS e LEFT JOIN truth AS t ON t.kind = e.kind AND t.event_id = e.event_id
GROUP BY ALL
ORDER BY ALL
