"""Human or machine: classify every open and click, recording the rule that fired.

Rules are data (``RuleSet``); the defaults are documented in docs/classification.md and in the SQL
headers (sql/classify/*.sql). Classification is a rebuildable step: ``classify(con, rules)``
re-labels stored events without re-ingesting, and ``classify_preview`` labels them into temporary
tables only, for the sensitivity table. After labelling, ``message_facts`` (one row per message,
the per-message facts every metric reads) is rebuilt.

Must not know input formats, reports or notebooks.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from dlvstats import aggregates, db, networks


@dataclass(frozen=True)
class RuleSet:
    name: str = "default"
    #: Trust an ESP's own machine-open / bot flag (SendGrid sg_machine_open, Mailgun client-info bot).
    trust_vendor_flag: bool = True
    #: Apple MPP proxy fetches carry exactly this user agent.
    mpp_user_agent: str = "Mozilla/5.0"
    #: Also call an open machine when it comes from a listed Apple egress network (Apple's 17.0.0.0/8,
    #: iCloud Private Relay egress), or from a listed CDN network (Akamai, Cloudflare, Fastly: Apple's
    #: relay partners) with an Apple Mail user agent ($apple_mail_ua_pattern): MPP prefetches that
    #: carry a full WebKit user agent (mpp_address).
    mpp_by_ip: bool = True
    #: Apple Mail's own user agent (no Safari/Chrome token): an iPhone, iPad or Mac mail client.
    apple_mail_ua_pattern: str = (r"^Mozilla/5\.0 \((iPhone|iPad|Macintosh)[^)]*\) AppleWebKit/[0-9.]+ "
                                  r"\(KHTML, like Gecko\)( Mobile/\w+)?$")
    #: A click this soon after delivery is a link scanner (security gateway) ...
    scanner_seconds: int = 120
    #: ... when, within burst_seconds of it, the message got clicks on at least this many distinct
    #: links: gateways follow every link (unsubscribe included) at once, while a person reading a
    #: message the minute it arrives clicks one. 1 = timing alone.
    scanner_min_links: int = 2
    #: Clicks on this many distinct links of a message within burst_seconds are a (re-)scan.
    burst_links: int = 3
    burst_seconds: int = 10
    #: ... and never fewer than this many: a person who clicks two links within ten seconds is not
    #: rare, and a campaign's link count seen in clicks is small on small lists. Re-scans of
    #: two-link messages are still caught by scanner_same_network and repeat_scan.
    burst_min_links: int = 3
    #: Same-network rules: a scanner's image fetch (an open of a scanned message within
    #: scanner_seconds of delivery) must come from the network of one of its machine clicks, and a
    #: later click from that network is the scanner's too. A network is a listed range, else the
    #: /16 (gateways use pools of addresses). False: scanner_prefetch from any address; no
    #: scanner_same_network rule.
    same_network: bool = True
    #: A click sooner than this after delivery is faster than any read (click_before_read).
    min_read_seconds: int = 2
    #: Events from these kinds of listed networks (data/networks) within network_seconds of
    #: delivery are machines (scanner_network, gateway_fetch).
    machine_network_kinds: tuple[str, ...] = ("cloud", "gateway")
    network_seconds: int = 1800
    #: Repeat scans (repeat_scan): a network (listed, else the /16) that clicked, within
    #: network_seconds of delivery, messages of at least rescan_min_recipients distinct recipients
    #: delivered in a month, with at least rescan_share of its clicks on them that early, is scanning;
    #: its early clicks are machine. People on one ISP network click over hours.
    rescan_min_recipients: int = 3
    rescan_share: float = 0.9
    #: An image fetch this close (either side) to a machine click on the same message from the same
    #: network is the scanner's (scanner_fetch), however late the scan.
    fetch_near_click_seconds: int = 60
    #: A recipient whose every delivered message (at least prefetch_min_messages; share at least
    #: prefetch_share) is fetched within prefetch_seconds of delivery from an image-proxy or Apple
    #: network is a prefetching recipient: those early fetches are machine (prefetch_recipient).
    prefetch_seconds: int = 600
    prefetch_min_messages: int = 3
    prefetch_share: float = 0.9
    #: Provider image proxies: human opens relayed by Gmail / Yahoo.
    proxy_pattern: str = r"GoogleImageProxy|YahooMailProxy|ggpht\.com"
    #: Unsubscribe and preference links are never engagement.
    unsubscribe_pattern: str = r"(?i)unsub|d[ée]sinscri|desabonn|optout|opt-out|preferences|/prefs"

    def params(self) -> dict:
        values = asdict(self)
        values.pop("name")
        values["machine_network_kinds"] = list(values["machine_network_kinds"])
        return values


DEFAULT_RULES = RuleSet()

#: Alternatives shown in the sensitivity table: how much the headline rates move with the rules.
ALTERNATIVE_RULES: tuple[RuleSet, ...] = (
    DEFAULT_RULES,
    replace(DEFAULT_RULES, name="scanner window 30 s", scanner_seconds=30),
    replace(DEFAULT_RULES, name="scanner window 10 min", scanner_seconds=600),
    replace(DEFAULT_RULES, name="scanner by timing alone", scanner_min_links=1, same_network=False),
    replace(DEFAULT_RULES, name="no network rules", machine_network_kinds=(), prefetch_min_messages=10**9),
    replace(DEFAULT_RULES, name="no burst rule", burst_links=10_000),
    replace(DEFAULT_RULES, name="ignore vendor flags", trust_vendor_flag=False),
    replace(DEFAULT_RULES, name="MPP by user agent only", mpp_by_ip=False),
    replace(DEFAULT_RULES, name="no repeat-scan rule", rescan_min_recipients=10**9),
)


def _label(con, rules: RuleSet, scope_drop_id: int | None, apply: bool,
           scope_from=None, scope_to=None) -> None:
    _prepare(con, scope_drop_id, scope_from, scope_to)
    _actors(con, rules, apply)


def _prepare(con, scope_drop_id: int | None, scope_from=None, scope_to=None) -> None:
    """What labelling needs whatever the rules: the scope (__scope) and its events' networks
    (__event_network). No rule parameter enters these two steps."""
    db.run(con, "classify/scope", scope_drop_id=scope_drop_id, scope_from=scope_from, scope_to=scope_to)
    networks.ensure(con)
    db.run(con, "networks/match")


def _actors(con, rules: RuleSet, apply: bool) -> None:
    params = rules.params()
    db.run(con, "classify/clicks_actor", **params)
    if apply:
        db.run(con, "classify/clicks_apply")
    db.run(con, "classify/opens_actor", **params)
    if apply:
        db.run(con, "classify/opens_apply")


def classify(con, rules: RuleSet = DEFAULT_RULES, only_drop_id: int | None = None) -> None:
    """Label opens and clicks (all, or those of messages touched by one drop) and update facts.

    With ``only_drop_id``, ``message_facts`` is refreshed for the messages that drop can have
    changed (``update_message_facts``) so an ingest costs what its data costs; otherwise (a rules
    change, the first ingest) it is rebuilt whole.
    """
    _label(con, rules, only_drop_id, apply=True)
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('classification_rules', $r)",
        {"r": json.dumps({"name": rules.name, **rules.params()})},
    )
    update_message_facts(con, only_drop_id)


def label_drop(con, drop_id: int, rules: RuleSet = DEFAULT_RULES) -> None:
    """Label what ``classify(con, rules, only_drop_id=drop_id)`` would relabel, into the temp tables
    __open_actor / __click_actor only: for a store written elsewhere (the lake's Spark ingest)."""
    _label(con, rules, drop_id, apply=False)


def update_message_facts(con, drop_id: int | None = None) -> None:
    """Rebuild ``message_facts`` whole, or (``drop_id``, after that drop's ingest and labelling) only
    for the messages the drop can have changed. One definition serves both
    (sql/relations/message_facts.sql); only the scope differs. The monthly aggregates
    (``dlvstats.aggregates``) are refreshed with them, for the months of the messages in scope."""
    refresh = drop_id is not None and _has_message_facts(con)
    if refresh:
        db.run(con, "relations/message_facts_scope", drop_id=drop_id)
    else:
        db.run(con, "relations/message_facts_scope_all")
    db.run(con, "relations/message_facts")
    if refresh:
        con.execute("DELETE FROM message_facts WHERE message_id IN (SELECT message_id FROM __facts_scope)")
        con.execute("INSERT INTO message_facts SELECT * FROM __message_facts_rows")
    else:
        con.execute("CREATE OR REPLACE TABLE message_facts AS SELECT * FROM __message_facts_rows")
    con.execute("DROP VIEW __message_facts_rows")
    # the monthly aggregates follow the facts: the months of the messages in scope, or all of them
    aggregates.refresh(con, all_months=not refresh)
    con.execute("DROP TABLE __facts_scope")
    if refresh:
        for table in ("__facts_sends", "__facts_ids", "__facts_recipients", "__facts_unsubscribes"):
            con.execute(f"DROP TABLE {table}")
    else:
        con.execute("DROP VIEW __facts_sends")


def _has_message_facts(con) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'message_facts' AND NOT temporary"
    ).fetchone()[0])


def classify_preview(con, rules: RuleSet, date_from=None, date_to=None) -> None:
    """Label events under ``rules`` into temp tables __open_actor / __click_actor only.

    Nothing stored is changed, so this works on a read-only connection. With ``date_from`` and
    ``date_to`` only the events of messages sent in [date_from, date_to) are labelled.
    """
    _label(con, rules, None, apply=False, scope_from=date_from, scope_to=date_to)


def classify_previews(con, rule_sets, date_from=None, date_to=None):
    """Label the same scope under each rule set in turn, as :func:`classify_preview` does, but build
    the scope and its events' networks once: for each rule set, yield it once its __open_actor /
    __click_actor temp tables hold its labels (read them before asking for the next)."""
    _prepare(con, None, date_from, date_to)
    for rules in rule_sets:
        _actors(con, rules, apply=False)
        yield rules


def stored_rules(con) -> dict:
    row = con.execute("SELECT value FROM meta WHERE key = 'classification_rules'").fetchone()
    return json.loads(row[0]) if row else {}
