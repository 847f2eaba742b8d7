-- 003: a complaint's event_key includes its recipient.
-- Grain: one row per stored complaint; nothing is added or removed.
-- Rule: schema 2 and earlier keyed a complaint on (message_id or recipient, ts, source), so the
-- complainants one feedback report lists for one message (ARF `Original-Rcpt-To` repeated) had one
-- key and all but one were counted as duplicates. The key is now (message_id, recipient, ts,
-- source), as ingest/validation.py event_key_sql computes it for EVENT_KEY_PARTS["complaints"]
-- (each part coalesced to '', ts as ISO text with microseconds, joined by chr(31), md5 as a UUID).
-- Recomputing the stored keys here keeps a file loaded before the upgrade a duplicate when it is
-- dropped again. The new key is finer than the old one, so the stored keys stay distinct.
-- Parameters: none.
UPDATE complaints
SET event_key = md5_number(concat_ws(chr(31),
    coalesce(message_id, ''),
    coalesce(recipient, ''),
    strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'),
    coalesce(source, '')))::UUID;
