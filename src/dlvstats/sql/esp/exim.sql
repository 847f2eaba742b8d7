-- A canonical drop (typed by esp/common.sql) as an Exim mainlog (log_timezone true, so every
-- time carries its offset, here +0000; +outgoing_interface, so deliveries carry I=[ip]). Grain:
-- one log line. Rules: every message with a recipient is one Exim message with one recipient:
-- its arrival line `<=` at sent_at (sender news@<sending_domain>, else news@ the host's qualify
-- domain dlvstats.invalid; `id=` the canonical message_id as the Message-ID); then by status
-- `=>` delivered at delivered_at (C="250 2.0.0 OK"), `**` failed (the reply rebuilt from the
-- codes: "SMTP error from remote mail server after RCPT TO:<...>: <code> <status> <reason>"; a
-- 4xx soft bounce ends with ": retry timeout exceeded") or `==` deferred (the same text after
-- `defer (-44)`), and `Completed` once settled. A message only accepted (status `sent`) has its
-- arrival line only. Exim logs no opens, clicks, complaints or unsubscribes: nothing of them is
-- written (complaints and subscriptions stay in canonical files beside the log).
-- Exim ids are 6-6-2 characters from the md5 of the message_id; times to the second.
-- Output: __x_ev(ord, seq, payload) and __x_done_complaints(__row) (empty).
CREATE OR REPLACE TEMP MACRO x_exim_ts(t) AS strftime(timezone('UTC', t), '%Y-%m-%d %H:%M:%S') || ' +0000';

CREATE OR REPLACE TEMP TABLE __x_base AS
SELECT s.*,
       substr(md5(s.message_id), 1, 6) || '-' || substr(md5(s.message_id), 7, 6) || '-' || substr(md5(s.message_id), 13, 2) AS eid,
       split_part(s.recipient, '@', 2) AS rdomain,
       coalesce(delivered_at, sent_at) AS settled_at,
       'SMTP error from remote mail server after RCPT TO:<' || s.recipient || '>: '
           || coalesce(x_diag(s.smtp_code, s.enhanced_status, s.bounce_reason), 'unknown error') AS smtp_error
FROM __x_sends AS s
WHERE s.recipient IS NOT NULL;

CREATE OR REPLACE TEMP TABLE __x_done_complaints AS SELECT __row FROM __x_complaints WHERE false;
DELETE FROM __x_unsub;

CREATE OR REPLACE TEMP TABLE __x_ev AS
SELECT sent_at AS ord, 1 AS seq,
       x_exim_ts(sent_at) || ' ' || eid || ' <= news@' || coalesce(sending_domain, 'dlvstats.invalid')
           || ' H=app.' || coalesce(sending_domain, 'dlvstats.invalid') || ' [192.0.2.250] P=esmtpsa A=plain:news S=4096 id='
           || message_id AS payload
FROM __x_base
UNION ALL
SELECT settled_at, 2,
       x_exim_ts(settled_at) || ' ' || eid || ' => ' || recipient || ' R=dnslookup T=remote_smtp'
           || coalesce(' I=[' || sending_ip || ']', '') || ' H=mx.' || rdomain || ' [192.0.2.254]'
           || ' X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 OK"'
FROM __x_base WHERE status = 'delivered'
UNION ALL
SELECT settled_at, 2,
       x_exim_ts(settled_at) || ' ' || eid || ' ** ' || recipient || ' R=dnslookup T=remote_smtp H=mx.' || rdomain
           || ' [192.0.2.254]: ' || smtp_error
           || CASE WHEN starts_with(coalesce(smtp_code, ''), '4') THEN ': retry timeout exceeded' ELSE '' END
FROM __x_base WHERE status = 'bounced'
UNION ALL
SELECT settled_at, 2,
       x_exim_ts(settled_at) || ' ' || eid || ' == ' || recipient || ' R=dnslookup T=remote_smtp defer (-44) H=mx.' || rdomain
           || ' [192.0.2.254]: ' || smtp_error
FROM __x_base WHERE status = 'deferred'
UNION ALL
SELECT settled_at, 3, x_exim_ts(settled_at) || ' ' || eid || ' Completed'
FROM __x_base WHERE status IN ('delivered', 'bounced');
