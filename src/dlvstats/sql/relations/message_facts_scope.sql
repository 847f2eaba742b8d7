-- The messages whose facts an ingest's drop can have changed, for a refresh of message_facts
-- (see message_facts.sql): __facts_scope (their ids) and __facts_sends (their sends). The cost
-- follows the new data, not the history (performance goal 5); tests/test_facts_refresh.py checks
-- that a refresh gives exactly the table a full rebuild gives, for each rule below.
-- Scope (__facts_scope), the messages whose facts a drop can change:
--   __scope from classify/scope.sql: messages with new opens or clicks, and sends new or settled;
--   messages named by the drop's complaints;
--   every message to a recipient named by one of the drop's complaints without message_id (the
--   complaint goes to the latest earlier message to that recipient);
--   every message to a recipient who has complaints without message_id and got a new send (a late
--   send can become that latest earlier message);
--   the messages of the account, campaign and recipient of the drop's campaign unsubscribes.
-- Parameters: $drop_id.
-- (one scan of `sends` for the whole scope: the small sets of ids, recipients and unsubscribes are
-- gathered first, so the cost of the history is one filtered pass, not one per rule)
CREATE OR REPLACE TEMP TABLE __facts_ids AS
SELECT message_id FROM __scope
UNION
SELECT message_id FROM complaints WHERE drop_id = $drop_id AND message_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __facts_recipients AS
SELECT recipient FROM complaints
WHERE drop_id = $drop_id AND message_id IS NULL AND recipient IS NOT NULL
UNION
SELECT recipient FROM complaints
WHERE message_id IS NULL AND recipient IS NOT NULL
  AND recipient IN (SELECT recipient FROM sends WHERE drop_id = $drop_id);

CREATE OR REPLACE TEMP TABLE __facts_unsubscribes AS
SELECT DISTINCT account_id, campaign_id, recipient FROM subscriptions
WHERE drop_id = $drop_id AND action = 'unsubscribe' AND campaign_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __facts_sends AS
SELECT * FROM sends AS s
WHERE s.message_id IN (SELECT message_id FROM __facts_ids)
   OR s.recipient IN (SELECT recipient FROM __facts_recipients)
   OR EXISTS (SELECT 1 FROM __facts_unsubscribes AS u
              WHERE u.account_id = s.account_id AND u.campaign_id = s.campaign_id AND u.recipient = s.recipient);

CREATE OR REPLACE TEMP TABLE __facts_scope AS SELECT message_id FROM __facts_sends;
