-- The network of every open and click in scope (__scope), and of every open of the other messages
-- of the recipients in scope (the prefetching-recipient rule looks at a recipient's whole history,
-- so a refresh labels as a rebuild does). Grain: one row per (event_type 'open' | 'click', event_key) with an
-- IPv4 address (events without one get no row: "unknown network").
-- network_kind: the kind of the most specific listed range holding the address (NULL: none);
-- network_key: that range's network name, else the address's /16 — what "the same network" means
-- for the same-network rules (gateways fetch and click from pools of addresses, never one).
CREATE OR REPLACE TEMP TABLE __event_network AS
WITH recipient_messages AS (
    SELECT message_id FROM sends
    WHERE recipient IN (SELECT recipient FROM sends SEMI JOIN __scope USING (message_id))
    UNION SELECT message_id FROM __scope
),
ev AS (
    SELECT 'open' AS event_type, event_key, message_id, ip, ip4_int(ip) AS ip_int
    FROM opens SEMI JOIN recipient_messages USING (message_id)
    UNION ALL
    SELECT 'click', event_key, message_id, ip, ip4_int(ip) AS ip_int FROM clicks SEMI JOIN __scope USING (message_id)
),
hits AS (
    SELECT ev.event_type, ev.event_key, arg_max(n.network, n.prefix_len) AS network, arg_max(n.kind, n.prefix_len) AS kind
    FROM ev JOIN __networks AS n
      ON n.bucket = (ev.ip_int >> 24) AND ev.ip_int BETWEEN n.start_int AND n.end_int
    GROUP BY ev.event_type, ev.event_key
)
SELECT ev.event_type, ev.event_key, ev.message_id, h.kind AS network_kind,
       coalesce(h.network, ip4_prefix_key(ev.ip, 16)) AS network_key
FROM ev LEFT JOIN hits AS h USING (event_type, event_key)
WHERE ev.ip_int IS NOT NULL;
