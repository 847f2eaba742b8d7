-- hidden_images: how many non-opens are readers whose images did not load, per mailbox provider.
-- Grain: one row per provider (sends.provider, from the recipient's domain), pooled over the
-- messages sent in [$date_from, $date_to) (UTC, sent_at), of $account_id when given.
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts);
--   $max_machine_open_share  above this machine_open_share the provider's opens are mostly machine
--                            (Apple MPP: nearly every reader's open is hidden behind a prefetch) and
--                            its estimates are withheld (default 0.8, see docs/metrics.md).
-- "Measurable" messages: delivered and without any machine open (an MPP prefetch or a scanner
-- fetch hides whether a person opened). All counts are messages (one message = one recipient).
-- Public columns (numerator / denominator):
--   delivered               messages with status delivered;
--   machine_open_share      delivered messages with a machine open / delivered messages with any open;
--   measurable_delivered    delivered messages without a machine open;
--   measurable_human_openers           measurable messages with a human open (image proxies count as human);
--   measurable_human_clickers          measurable messages with a human click on a content link (not
--                           unsubscribe/preferences);
--   measurable_clickers_without_open   measurable_human_clickers with no human open;
--   image_blocked_share     measurable_clickers_without_open / measurable_human_clickers. The estimator's assumption:
--                           people who click load images like other readers, so the share of
--                           clickers whose images stayed off is the share of all readers whose did;
--   measured_open_rate      measurable_human_openers / measurable_delivered;
--   est_read_rate           measured_open_rate / (1 - image_blocked_share): estimated readers
--                           (measurable_human_openers / (1 - image_blocked_share)) / measurable_delivered;
--   hidden_reader_share_of_nonopens  (estimated readers - measurable_human_openers) /
--                           (measurable_delivered - measurable_human_openers): the share of recorded non-opens
--                           (among measurable messages) that were readers;
--   opens_mostly_machine    machine_open_share > $max_machine_open_share. The caller
--                           (metrics/hidden_images.py) derives is_measurable and note from it, from
--                           the clicker counts and from the precision of image_blocked_share.
-- Interval inputs: R__num/den/y2/yn/n2/k per-recipient sums for the shares (metrics.common), and
-- m_* sums of products of the per-recipient counts (o = measurable_human_openers, d = measurable_delivered,
-- c = measurable_human_clickers, u = measurable_clickers_without_open) for the delta-method variance of est_read_rate and
-- hidden_reader_share_of_nonopens (clusters = recipients, k = recipients with a delivered message).
WITH period AS (
    SELECT provider, recipient, is_delivered, has_open, has_machine_open, has_human_open, has_human_click
    FROM message_facts
    WHERE dlv_in_scope(sent_at, account_id, $date_from, $date_to, $account_id)
      AND is_delivered
),
per_person AS (
    SELECT coalesce(provider, 'other') AS provider, recipient,
           count(*) AS n_delivered,
           count(*) FILTER (has_open) AS n_opened,
           count(*) FILTER (has_machine_open) AS y_machine,
           count(*) FILTER (NOT has_machine_open) AS d,
           count(*) FILTER (NOT has_machine_open AND has_human_open) AS o,
           count(*) FILTER (NOT has_machine_open AND has_human_click) AS c,
           count(*) FILTER (NOT has_machine_open AND has_human_click AND NOT has_human_open) AS u
    FROM period
    GROUP BY ALL
),
per_provider AS (
    SELECT provider,
           CAST(sum(n_delivered) AS BIGINT) AS delivered,
           CAST(sum(n_opened) AS BIGINT) AS opened,
           CAST(sum(y_machine) AS BIGINT) AS machine_opened,
           CAST(sum(d) AS BIGINT) AS measurable_delivered,
           CAST(sum(o) AS BIGINT) AS measurable_human_openers,
           CAST(sum(c) AS BIGINT) AS measurable_human_clickers,
           CAST(sum(u) AS BIGINT) AS measurable_clickers_without_open,
           count(*) AS recipients,
           -- the clustered-interval sums (sql/macros/cluster.sql), spread into R__ columns below
           dlv_cluster_sums(y_machine, n_opened) AS s_machine_open_share,  -- y = machine-opened, n = opened
           dlv_cluster_sums(u, c) AS s_image_blocked_share,
           dlv_cluster_sums(o, d) AS s_measured_open_rate,
           -- second moments of (o, d, c, u) per recipient, for the delta method
           sum(o * o) AS m_oo, sum(o * d) AS m_od, sum(o * c) AS m_oc, sum(o * u) AS m_ou,
           sum(d * d) AS m_dd, sum(d * c) AS m_dc, sum(d * u) AS m_du,
           sum(c * c) AS m_cc, sum(c * u) AS m_cu, sum(u * u) AS m_uu
    FROM per_person
    GROUP BY provider
)
SELECT provider, delivered,
       machine_opened / nullif(opened, 0) AS machine_open_share,
       measurable_delivered, measurable_human_openers, measurable_human_clickers, measurable_clickers_without_open,
       coalesce(machine_opened / nullif(opened, 0), 0) > $max_machine_open_share AS opens_mostly_machine,
       measurable_clickers_without_open / nullif(measurable_human_clickers, 0) AS image_blocked_share,
       measurable_human_openers / nullif(measurable_delivered, 0) AS measured_open_rate,
       measured_open_rate / nullif(1 - image_blocked_share, 0) AS est_read_rate,
       (est_read_rate * measurable_delivered - measurable_human_openers)
           / nullif(measurable_delivered - measurable_human_openers, 0) AS hidden_reader_share_of_nonopens,
       opened, machine_opened, recipients,
       COLUMNS(s_machine_open_share.*) AS 'machine_open_share__\0',
       COLUMNS(s_image_blocked_share.*) AS 'image_blocked_share__\0',
       COLUMNS(s_measured_open_rate.*) AS 'measured_open_rate__\0',
       m_oo, m_od, m_oc, m_ou, m_dd, m_dc, m_du, m_cc, m_cu, m_uu
FROM per_provider
ORDER BY delivered DESC, provider;
