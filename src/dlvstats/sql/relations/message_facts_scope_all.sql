-- Every message, for a full rebuild of message_facts (see message_facts.sql).
CREATE OR REPLACE TEMP VIEW __facts_sends AS SELECT * FROM sends;

CREATE OR REPLACE TEMP TABLE __facts_scope AS SELECT message_id FROM sends;
