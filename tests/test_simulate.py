"""The simulator: deterministic, its files follow the canonical spec, its logs agree with its truth,
and its headline rates land in the published ranges (shared/reference/published-figures.md).

Every check reads the files the simulator wrote (with DuckDB), never its internals, so a test
fails when the logs and the truth disagree."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from dlvstats import simulate as sim

ISO_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
REQUIRED = {
    "sends": ("message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient"),
    "opens": ("message_id", "ts"),
    "clicks": ("message_id", "ts"),
    "complaints": ("ts",),
    "subscriptions": ("ts", "account_id", "list_id", "recipient", "action"),
    "campaigns": ("campaign_id", "account_id", "list_id", "sent_at", "kind"),
    "orders": ("ts", "account_id", "recipient", "order_id", "amount"),
    "blocklists": ("ts", "target", "blocklist", "action"),
}
ENUMS = {
    ("sends", "status"): {"delivered", "bounced", "deferred", "sent"},
    ("sends", "bounce_class"): {"hard", "soft"},
    ("subscriptions", "action"): {"subscribe", "unsubscribe"},
    ("campaigns", "kind"): {"regular", "gift", "autoresponder", "reengagement", "transactional"},
    ("blocklists", "action"): {"listed", "delisted"},
}
TIMESTAMPS = {"sends": ("sent_at", "delivered_at"), "opens": ("ts",), "clicks": ("ts",), "complaints": ("ts",),
              "subscriptions": ("ts", "collected_at"), "campaigns": ("sent_at",), "orders": ("ts",),
              "blocklists": ("ts",)}


def read_kind(con: duckdb.DuckDBPyConnection, root: Path, kind: str, fmt: str = "csv") -> duckdb.DuckDBPyRelation:
    """All months of one kind, every column as text, as an ingest would stage them."""
    pattern = f"{root}/drops/*/{kind}.{fmt}"
    if fmt.startswith("csv"):
        return con.sql(f"SELECT * FROM read_csv('{pattern}', all_varchar=true, header=true, union_by_name=true, "
                       "filename=true)")
    if fmt == "parquet":
        return con.sql(f"SELECT * FROM read_parquet('{pattern}', union_by_name=true, filename=true)")
    return con.sql(f"SELECT * FROM read_json('{pattern}', format='newline_delimited', union_by_name=true, "
                   f"filename=true, columns={_json_columns(kind)})")


def _json_columns(kind: str) -> dict:
    return {c: "VARCHAR" for c in sim.CANONICAL_COLUMNS[kind]}


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> tuple[Path, dict]:
    """A small but complete run: 4 months that include the stale import, the listing and gifts."""
    out = tmp_path_factory.mktemp("sim") / "run"
    truth = sim.simulate(out, seed=11, contacts=2500, months=4, fmt="csv")
    return out, truth


@pytest.fixture(scope="module")
def con(drop) -> duckdb.DuckDBPyConnection:
    """The drop as tables, plus the truth side files."""
    out, _ = drop
    c = duckdb.connect()
    for kind in sim.KINDS:
        c.execute(f"CREATE TABLE {kind} AS {read_kind(c, out, kind).sql_query()}")
    c.execute(f"CREATE TABLE machine AS SELECT * FROM read_csv('{out}/truth_machine_events.csv.gz', all_varchar=true)")
    c.execute(f"CREATE TABLE truth AS SELECT * FROM read_parquet('{out}/truth_messages.parquet')")
    # settled view of sends: the spec's status precedence across drops
    c.execute("""CREATE TABLE final_sends AS
                 SELECT * FROM sends QUALIFY row_number() OVER (
                   PARTITION BY message_id ORDER BY status IN ('delivered', 'bounced') DESC, filename DESC) = 1""")
    c.execute("""CREATE TABLE human_opens AS SELECT o.* FROM opens o
                 ANTI JOIN machine m ON m.kind = 'opens' AND m.event_id = o.event_id""")
    return c


def _digest(root: Path) -> dict[str, str]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "truth.json":  # the only non-deterministic value: how long the run took
                doc = json.loads(data)
                doc.pop("runtime_seconds")
                data = json.dumps(doc, sort_keys=True).encode()
            files[str(path.relative_to(root))] = hashlib.sha256(data).hexdigest()
    return files


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = _digest_of(tmp_path / "a", seed=5)
    b = _digest_of(tmp_path / "b", seed=5)
    c = _digest_of(tmp_path / "c", seed=6)
    assert a == b
    assert len(a) == 3 + 2 * len(sim.KINDS)
    assert a["drops/2026-10/sends.csv.gz"] != c["drops/2026-10/sends.csv.gz"]
    assert a["truth_messages.parquet"] != c["truth_messages.parquet"]


def _digest_of(out: Path, seed: int) -> dict[str, str]:
    sim.simulate(out, seed=seed, contacts=400, months=2, fmt="csv.gz")
    return _digest(out)


@pytest.mark.parametrize("fmt", sim.FORMATS)
def test_every_format_follows_the_canonical_spec(tmp_path, fmt):
    out = tmp_path / "drop"
    truth = sim.simulate(out, seed=2, contacts=500, months=2, fmt=fmt)
    months = sorted(p.name for p in (out / "drops").iterdir())
    assert months == ["2026-09", "2026-10"]
    for month in months:
        assert sorted(p.name for p in (out / "drops" / month).iterdir()) == sorted(f"{k}.{fmt}" for k in sim.KINDS)
    c = duckdb.connect()
    for kind in sim.KINDS:  # read each kind once (a relation re-runs its query on every call)
        c.execute(f"CREATE TABLE {kind} AS {read_kind(c, out, kind, fmt).sql_query()}").fetchall()
    for kind in sim.KINDS:
        rel = c.table(kind)
        assert set(sim.CANONICAL_COLUMNS[kind]) <= set(rel.columns), kind
        assert rel.count("*").fetchall()[0][0] == truth["rows"][kind], kind
        for col in REQUIRED[kind]:
            assert rel.filter(f"{col} IS NULL OR CAST({col} AS VARCHAR) = ''").count("*").fetchall()[0][0] == 0, (kind, col)
        for col in TIMESTAMPS[kind]:
            bad = rel.filter(f"{col} IS NOT NULL AND NOT regexp_matches(CAST({col} AS VARCHAR), '{ISO_Z}')")
            assert bad.count("*").fetchall()[0][0] == 0, (kind, col, bad.limit(3).fetchall())
        for (k, col), allowed in ENUMS.items():
            if k == kind:
                values = {v for (v,) in rel.select(col).distinct().fetchall() if v is not None}
                assert values <= allowed, (kind, col, values - allowed)
    sends = c.table("sends")
    assert sends.filter("status = 'bounced' AND bounce_class IS NULL").count("*").fetchall()[0][0] == 0
    for kind in ("opens", "clicks"):
        rel = c.table(kind)
        assert rel.select("event_id").distinct().count("*").fetchall()[0][0] == rel.count("*").fetchall()[0][0]


def test_complaints_name_a_message_or_recipient_and_never_come_from_gmail_or_apple(con):
    assert con.sql("SELECT count(*) FROM complaints WHERE message_id IS NULL AND recipient IS NULL").fetchall()[0][0] == 0
    sources = {s for (s,) in con.sql("SELECT DISTINCT source FROM complaints").fetchall()}
    assert sources <= {"yahoo_cfl", "microsoft_jmrp", "signal_spam", "abuse_desk"}
    providers = con.sql("""SELECT DISTINCT t.provider FROM complaints c JOIN truth t USING (message_id)""").fetchall()
    assert {p for (p,) in providers} & {"gmail", "apple"} == set()


def test_no_human_open_without_a_read_whose_pixel_loaded(con):
    """Readers with images blocked or in plain text, and non-readers, leave no human open."""
    bad = con.sql("""SELECT t.message_id, t.read, t.pixel_loaded, t.plain_text FROM human_opens o
                     JOIN truth t USING (message_id)
                     WHERE NOT t.read OR NOT t.pixel_loaded OR t.plain_text OR t.mpp""").fetchall()
    assert bad == []
    # and the other way round: every read with a loaded pixel has a human open
    missing = con.sql("""SELECT count(*) FROM truth t WHERE t.pixel_loaded
                         AND NOT EXISTS (SELECT 1 FROM human_opens o WHERE o.message_id = t.message_id)""").fetchall()[0]
    assert missing[0] == 0
    # images-off readers do exist, and some of them read without loading the pixel
    assert con.sql("SELECT count(*) FROM truth WHERE read AND images_off AND NOT pixel_loaded").fetchall()[0][0] > 0
    assert con.sql("SELECT count(*) FROM truth WHERE read AND plain_text").fetchall()[0][0] > 0


def test_every_mpp_recipients_delivered_message_has_an_mpp_open(con, drop):
    _, truth = drop
    end = truth["period"]["end"]
    # MPP fetches can come the night after delivery: leave out the last 36 hours of the period
    missing = con.sql(f"""
        SELECT count(*) FROM truth t JOIN final_sends s USING (message_id)
        WHERE t.mpp_user AND t.mailbox_alive AND s.status = 'delivered'
          AND CAST(s.delivered_at AS TIMESTAMP) < TIMESTAMP '{end[:-1]}' - INTERVAL 36 HOUR
          AND NOT EXISTS (SELECT 1 FROM opens o WHERE o.message_id = t.message_id AND o.user_agent = 'Mozilla/5.0')
    """).fetchall()[0][0]
    eligible = con.sql("SELECT count(*) FROM truth WHERE mpp_user AND mailbox_alive AND delivered").fetchall()[0][0]
    assert eligible > 1000
    assert missing == 0
    # the MPP user agent is exactly the proxy's, from Apple's or its partners' ranges, and listed as machine
    stats = con.sql("""
        SELECT count(*) AS n,
               count(*) FILTER (WHERE m.machine_type = 'apple_mpp') AS listed,
               count(*) FILTER (WHERE split_part(o.ip, '.', 1) = '17' OR o.ip LIKE '104.28.%'
                                OR (split_part(o.ip, '.', 1) = '172'
                                    AND CAST(split_part(o.ip, '.', 2) AS INT) BETWEEN 224 AND 239)) AS apple_ip
        FROM opens o LEFT JOIN machine m ON m.event_id = o.event_id
        WHERE o.user_agent = 'Mozilla/5.0'""").fetchall()[0]
    assert stats[0] == stats[1] == stats[2] > 0
    # MPP fetches: about 30% within 15 minutes of delivery, most of the rest at night (Paris)
    soon, night, _n = con.sql("""
        WITH f AS (SELECT CAST(o.ts AS TIMESTAMP) AS ts, CAST(s.delivered_at AS TIMESTAMP) AS dlv
                   FROM opens o JOIN machine m ON m.event_id = o.event_id AND m.machine_type = 'apple_mpp'
                   JOIN final_sends s USING (message_id))
        SELECT avg((ts - dlv <= INTERVAL 15 MINUTE)::INT),
               avg((hour(ts + INTERVAL 1 HOUR) >= 19 OR hour(ts + INTERVAL 2 HOUR) < 7)::INT), count(*) FROM f""").fetchall()[0]
    assert 0.2 < soon < 0.4
    assert night > 0.6


def test_scanner_clicks_come_within_two_minutes_and_hit_every_link(con):
    rows = con.sql("""
        SELECT m.machine_type, date_diff('second', CAST(s.delivered_at AS TIMESTAMP), CAST(c.ts AS TIMESTAMP)) AS lag,
               c.url, c.message_id
        FROM clicks c JOIN machine m ON m.kind = 'clicks' AND m.event_id = c.event_id
        JOIN final_sends s USING (message_id)""").fetchall()
    first = [r for r in rows if r[0] == "scanner"]
    assert len(first) > 50
    assert all(1 <= lag <= 120 for _, lag, _, _ in first)
    assert all(600 <= lag <= 2400 + 130 for t, lag, _, _ in rows if t == "scanner_rescan")
    scanned = {m for _, _, _, m in first}
    unsub = {m for _, _, url, m in first if "/unsubscribe" in url}
    assert unsub == scanned  # the unsubscribe link too, on every scanned message
    # scanner clicks come from data-centre addresses, not from the recipients' ISPs
    ips = con.sql("""SELECT DISTINCT split_part(c.ip, '.', 1) FROM clicks c
                     JOIN machine m ON m.event_id = c.event_id WHERE m.machine_type = 'scanner'""").fetchall()
    assert {i for (i,) in ips} <= {"148", "67", "185", "207", "209", "40", "52", "3", "54", "35"}
    # human clicks mostly come much later: the "2 minutes" rule is good but not perfect
    fast_humans = con.sql("""
        SELECT avg((date_diff('second', CAST(s.delivered_at AS TIMESTAMP), CAST(c.ts AS TIMESTAMP)) <= 120)::INT)
        FROM clicks c JOIN final_sends s USING (message_id)
        ANTI JOIN machine m ON m.event_id = c.event_id""").fetchall()[0][0]
    assert 0 < fast_humans < 0.1


def test_gift_reregistrations_have_their_moved_unsubscribe_and_match_truth(con, drop):
    _, truth = drop
    pairs = con.sql("""
        SELECT g.campaign_id, g.recipient, m.recipient IS NOT NULL AS matched, g.list_id, m.list_id AS from_list,
               date_diff('second', CAST(g.ts AS TIMESTAMP), CAST(m.ts AS TIMESTAMP)) AS gap
        FROM subscriptions g LEFT JOIN subscriptions m
          ON m.action = 'unsubscribe' AND m.source = 'moved' AND m.recipient = g.recipient
         AND m.campaign_id = g.campaign_id AND m.account_id = g.account_id
        WHERE g.action = 'subscribe' AND g.source = 'gift'""").fetchall()
    assert len(pairs) > 10
    assert all(matched and lst == "lst_cadeau" and src == "lst_prospects" and 0 <= gap <= 5
               for _, _, matched, lst, src, gap in pairs)
    moved = con.sql("SELECT count(*) FROM subscriptions WHERE source = 'moved'").fetchall()[0][0]
    assert moved == len(pairs)
    by_campaign: dict[str, int] = {}
    for cid, *_ in pairs:
        by_campaign[cid] = by_campaign.get(cid, 0) + 1
    # re-registrants were delivered the campaign and clicked its gift link first
    clicked = con.sql("""
        SELECT count(*) FROM subscriptions g WHERE g.source = 'gift' AND NOT EXISTS (
          SELECT 1 FROM clicks c JOIN sends s USING (message_id)
          WHERE s.campaign_id = g.campaign_id AND s.recipient = g.recipient AND c.url LIKE '%/cadeau?%'
            AND CAST(c.ts AS TIMESTAMP) <= CAST(g.ts AS TIMESTAMP))""").fetchall()[0][0]
    assert clicked == 0
    gifts = truth["gift_campaigns"]
    assert {cid: g["reregistered"] for cid, g in gifts.items() if g["reregistered"]} == by_campaign
    kinds = dict(con.sql("SELECT campaign_id, kind FROM campaigns").fetchall())
    assert all(kinds[cid] == "gift" for cid in gifts)


def test_collection_date_from_the_logs_gives_the_truths_age(con):
    """age_year = floor(days(sent_at - collection) / 365.25), collection = earliest collected_at of the
    (account, recipient), else its first subscribe on the account."""
    mismatches = con.sql("""
        WITH coll AS (
          SELECT account_id, recipient,
                 coalesce(min(CAST(collected_at AS TIMESTAMP)),
                          min(CAST(ts AS TIMESTAMP)) FILTER (WHERE action = 'subscribe')) AS collected
          FROM subscriptions GROUP BY ALL)
        SELECT count(*) FILTER (WHERE c.collected IS NULL),
               count(*) FILTER (WHERE floor(date_diff('day', c.collected, CAST(s.sent_at AS TIMESTAMP)) / 365.25)
                                      <> t.age_year),
               count(DISTINCT t.age_year)
        FROM final_sends s JOIN truth t USING (message_id)
        LEFT JOIN coll c ON c.account_id = s.account_id AND c.recipient = s.recipient""").fetchall()[0]
    assert mismatches[0] == 0
    assert mismatches[1] == 0
    assert mismatches[2] == 13  # ages 0..12 are all present
    # the stale list: imported during the period, collected years before
    stale = con.sql("""SELECT min(date_diff('day', CAST(collected_at AS TIMESTAMP), CAST(ts AS TIMESTAMP)))
                       FROM subscriptions WHERE list_id = 'lst_archive' AND source = 'import'""").fetchall()[0][0]
    assert stale >= 2 * 365


def test_deferred_messages_settle_in_the_next_drop(con):
    rows = con.sql("""
        SELECT d.message_id, d.filename, s.filename, s.status
        FROM sends d JOIN sends s ON s.message_id = d.message_id AND s.status IN ('delivered', 'bounced')
        WHERE d.status IN ('deferred', 'sent')""").fetchall()
    assert len(rows) > 0
    for _, deferred_in, settled_in, _ in rows:
        assert deferred_in < settled_in  # drops/YYYY-MM sort by month
    dup = con.sql("""SELECT count(*) FROM (SELECT message_id, filename FROM sends GROUP BY ALL HAVING count(*) > 1)""")
    assert dup.fetchall()[0][0] == 0
    assert con.sql("SELECT count(*) FROM sends WHERE status = 'deferred' AND smtp_code NOT LIKE '4%'").fetchall()[0][0] == 0


def test_every_event_points_to_a_send_and_comes_after_it(con):
    for kind in ("opens", "clicks"):
        orphans = con.sql(f"SELECT count(*) FROM {kind} e ANTI JOIN final_sends s USING (message_id)").fetchall()[0][0]
        assert orphans == 0, kind
        early = con.sql(f"""SELECT count(*) FROM {kind} e JOIN final_sends s USING (message_id)
                            WHERE CAST(e.ts AS TIMESTAMP) < CAST(s.delivered_at AS TIMESTAMP)""").fetchall()[0][0]
        assert early == 0, kind
    unknown = con.sql("SELECT count(*) FROM sends ANTI JOIN campaigns USING (campaign_id)").fetchall()[0][0]
    assert unknown == 0


def test_machine_events_file_lists_only_real_events(con):
    n_machine = con.sql("SELECT count(*) FROM machine").fetchall()[0][0]
    joined = con.sql("""SELECT count(*) FROM machine m WHERE
                        (m.kind = 'opens' AND m.event_id IN (SELECT event_id FROM opens)) OR
                        (m.kind = 'clicks' AND m.event_id IN (SELECT event_id FROM clicks))""").fetchall()[0][0]
    assert n_machine == joined > 0
    types = {t for (t,) in con.sql("SELECT DISTINCT machine_type FROM machine").fetchall()}
    assert types <= {"apple_mpp", "scanner_image_fetch", "scanner", "scanner_rescan"}
    assert "Mozilla/5.0" not in {u for (u,) in con.sql("""SELECT DISTINCT o.user_agent FROM opens o JOIN machine m
        ON m.event_id = o.event_id WHERE m.machine_type = 'scanner_image_fetch'""").fetchall()}


def test_truth_rates_are_what_the_messages_say(con, drop):
    """truth.json providers: recomputed from the per-message truth and the logs' machine opens."""
    _, truth = drop
    rows = con.sql("""
        WITH m AS (
          SELECT t.provider, t.delivered, t.read,
                 EXISTS (SELECT 1 FROM opens o JOIN machine x ON x.event_id = o.event_id
                         WHERE o.message_id = t.message_id) AS machine_open,
                 EXISTS (SELECT 1 FROM human_opens o WHERE o.message_id = t.message_id) AS human_open
          FROM truth t WHERE t.delivered)
        SELECT provider, count(*), avg(read::INT), count(*) FILTER (WHERE NOT machine_open),
               avg(read::INT) FILTER (WHERE NOT machine_open),
               avg((NOT human_open)::INT) FILTER (WHERE NOT machine_open AND read)
        FROM m GROUP BY provider""").fetchall()
    assert {r[0] for r in rows} == set(truth["providers"])
    for provider, delivered, read_rate, measurable, measurable_read, blocked in rows:
        t = truth["providers"][provider]
        assert t["delivered"] == delivered
        assert t["read_rate"] == pytest.approx(read_rate, abs=1e-5)
        assert t["measurable_delivered"] == measurable
        assert t["measurable_read_rate"] == pytest.approx(measurable_read, abs=1e-5)
        if blocked is not None:
            assert t["image_blocked_share"] == pytest.approx(blocked, abs=1e-5)


def test_clicking_is_independent_of_whether_images_loaded(con):
    """The hidden-images estimator assumes it: among human reads of measurable messages, the click
    rate is the same whether the pixel loaded or not."""
    rows = dict(con.sql("""SELECT pixel_loaded, avg(human_click::INT) FROM truth
                           WHERE delivered AND read AND NOT machine_open GROUP BY 1""").fetchall())
    n_blocked = con.sql("""SELECT count(*) FROM truth WHERE delivered AND read AND NOT machine_open
                           AND NOT pixel_loaded""").fetchall()[0][0]
    assert n_blocked > 500
    assert rows[True] == pytest.approx(rows[False], abs=0.035)  # ~3 standard errors at this size


def test_stale_client_listing_and_blocks(tmp_path):
    """The story of the shared IP: a stale import, a complaint spike over 0.3% at the feedback-loop
    providers, a Trend Micro listing a few days later, 5.7.1 blocks while listed."""
    out = tmp_path / "run"
    truth = sim.simulate(out, seed=3, contacts=6000, months=4, fmt="parquet")
    stale = truth["stale_account"]
    listing = truth["blocklist_listing"]
    assert stale["account_id"] == "acct_oldlist" and stale["imported"] > 300
    assert stale["complaint_rate_fbl"] > 0.003
    assert truth["shared_ip"]["ip"] == listing["target"] and len(truth["shared_ip"]["accounts"]) == 3
    assert stale["first_campaign"]["sent_at"] < listing["listed_at"] < listing["delisted_at"]
    c = duckdb.connect()
    c.execute(f"CREATE TABLE sends AS {read_kind(c, out, 'sends', 'parquet').sql_query()}").fetchall()
    sends = c.table("sends")
    blocks = sends.filter(f"""bounce_reason LIKE '%Trend Micro%' AND sending_ip = '{listing['target']}'
                              AND enhanced_status = '5.7.1'""")
    n_blocks = blocks.count("*").fetchall()[0][0]
    assert n_blocks > 20
    outside = blocks.filter(f"sent_at < '{listing['listed_at']}' OR sent_at >= '{listing['delisted_at']}'")
    assert outside.count("*").fetchall()[0][0] == 0
    other_ips = sends.filter(f"bounce_reason LIKE '%Trend Micro%' AND sending_ip <> '{listing['target']}'")
    assert other_ips.count("*").fetchall()[0][0] == 0


def test_headline_rates_land_in_published_ranges(tmp_path):
    """A moderate run (5,000 contacts, 5 months): the rates an analyst would compute from the logs
    (machine events taken from the truth side file) are in the published ranges, and every address-age
    year 0..12 gets its share of volume (at the default size, 5,000 delivered or more each)."""
    out = tmp_path / "run"
    truth = sim.simulate(out, seed=0, contacts=5000, months=5, fmt="parquet")
    c = duckdb.connect()
    for kind in ("sends", "opens", "clicks", "subscriptions"):
        c.execute(f"CREATE TABLE {kind} AS {read_kind(c, out, kind, 'parquet').sql_query()}").fetchall()
    c.execute(f"CREATE TABLE machine AS SELECT * FROM read_csv('{out}/truth_machine_events.csv.gz')").fetchall()
    c.execute("""CREATE TABLE final AS SELECT * FROM sends QUALIFY row_number() OVER (
                   PARTITION BY message_id ORDER BY status IN ('delivered', 'bounced') DESC) = 1""").fetchall()
    sent, delivered, hard = c.sql("""SELECT count(*), count(*) FILTER (WHERE status = 'delivered'),
                                     count(*) FILTER (WHERE bounce_class = 'hard') FROM final""").fetchall()[0]
    opened = c.sql("""SELECT count(DISTINCT o.message_id) FROM opens o JOIN final s USING (message_id)
                      WHERE s.status = 'delivered'""").fetchall()[0][0]
    human_clicked = c.sql("""SELECT count(DISTINCT c.message_id) FROM clicks c ANTI JOIN machine m USING (event_id)
                             WHERE c.url NOT LIKE '%/unsubscribe%'""").fetchall()[0][0]
    clicks, bot_clicks = c.sql("""SELECT count(*), count(m.event_id) FROM clicks c
                                  LEFT JOIN machine m USING (event_id)""").fetchall()[0]
    unsubs = c.sql("""SELECT count(*) FROM subscriptions WHERE action = 'unsubscribe'
                      AND source IN ('link', 'user')""").fetchall()[0][0]
    assert sent > 100_000
    assert 0.25 <= opened / delivered <= 0.40
    assert 0.015 <= human_clicked / delivered <= 0.04
    assert 0.0005 <= unsubs / sent <= 0.004
    assert 0.002 <= hard / sent <= 0.03
    assert 0.03 <= bot_clicks / clicks <= 0.25
    ages = truth["read_rate_by_age_year"]
    total = sum(a["delivered"] for a in ages.values())
    assert all(ages[str(a)]["delivered"] >= 0.005 * total for a in range(13))  # 1M sends: > 5,000 each
    # engagement decays with the age of the address
    assert ages["0"]["read_rate"] > 2 * ages["8"]["read_rate"] > 0
    # Apple is flagged by its MPP share; measurable providers have a real image-blocking share
    assert truth["providers"]["apple"]["mpp_share"] > 0.25
    assert 0.02 < truth["providers"]["gmail"]["image_blocked_share"] < truth["providers"]["other"]["image_blocked_share"]


def test_cli_simulate_passes_its_options_and_reports(tmp_path, capsys):
    """Through the CLI's own parser and dispatch (``dlvstats simulate``), not a parser of the simulator's."""
    from dlvstats.cli import main

    out = tmp_path / "cli"
    assert main(["simulate", "--out", str(out), "--seed", "4", "--contacts", "300", "--months", "1",
                 "--end-month", "2026-03", "--format", "jsonl"]) == 0
    captured = capsys.readouterr()
    assert "sends" in captured.out and "drops" in captured.out.lower()
    assert "months 1/1" in captured.err
    assert (out / "drops" / "2026-03" / "sends.jsonl").exists()
    truth = json.loads((out / "truth.json").read_text())
    assert truth["period"]["start"] == "2026-03-01T00:00:00Z"
    assert (truth["seed"], truth["params"]["contacts"], truth["params"]["months"], truth["params"]["format"]) == (
        4, 300, 1, "jsonl")
    # the simulator's own refusal comes back as a usage error, not a traceback
    assert main(["simulate", "--out", str(tmp_path / "bad"), "--end-month", "2026-13", "--quiet"]) == 2
    assert "end_month must look like YYYY-MM" in capsys.readouterr().err


def test_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path):
    (tmp_path / "drops" / "2026-01").mkdir(parents=True)
    (tmp_path / "drops" / "2026-01" / "sends.csv").write_text("precious")
    with pytest.raises(FileExistsError):
        sim.simulate(tmp_path, contacts=200, months=1)
    assert (tmp_path / "drops" / "2026-01" / "sends.csv").read_text() == "precious"
    with pytest.raises(ValueError):
        sim.simulate(tmp_path / "x", end_month="2026-13")
    with pytest.raises(ValueError):
        sim.simulate(tmp_path / "x", as_format="ses")


def test_ids_are_run_specific():
    assert re.fullmatch(r"[0-9a-f]{6}", sim.run_tag(1, 2, 3, "2026-01"))
    assert sim.run_tag(1, 2, 3, "2026-01") != sim.run_tag(2, 2, 3, "2026-01")


def test_every_simulated_message_lands_at_its_truth_provider(sim_db):
    """The simulator's truth and the shipped domain mapping agree: each message's provider after
    ingest (providers.csv) is the one its truth says (a legacy ISP domain the simulator called
    'other' while the mapping says 'sfr' made truth and estimate compare different populations).
    Delivered messages only: a sign-up typo such as yahoo.fe bounces, whatever 'yahoo.*' maps it to."""
    db_path, out = sim_db
    c = duckdb.connect(str(db_path), read_only=True)
    rows = c.execute(f"""
        SELECT t.provider AS truth_provider, s.provider AS mapped_provider, s.recipient_domain, count(*) AS n
        FROM read_parquet('{out}/truth_messages.parquet') AS t JOIN sends AS s USING (message_id)
        WHERE t.delivered AND t.provider IS DISTINCT FROM s.provider
        GROUP BY ALL ORDER BY n DESC LIMIT 10""").fetchall()
    assert rows == [], f"truth provider, mapped provider, domain, messages: {rows}"
    assert c.execute(f"SELECT count(*) FROM read_parquet('{out}/truth_messages.parquet')").fetchone()[0] > 0


@pytest.fixture(scope="module")
def sim_db(drop, tmp_path_factory):
    from dlvstats.ingest import ingest_paths

    out, _ = drop
    db_path = tmp_path_factory.mktemp("simdb") / "sim.duckdb"
    ingest_paths(db_path, sorted((out / "drops").iterdir()))
    return db_path, out


def test_every_simulator_module_sits_in_a_layer_of_the_simulators_contract():
    """import-linter leaves a module no layer names unconstrained: each module of the package (and
    only those) must be in the layers of the contract whose container is dlvstats.simulate."""
    import pkgutil
    import tomllib

    conf = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    contract = next(c for c in conf["tool"]["importlinter"]["contracts"] if c.get("containers") == ["dlvstats.simulate"])
    named = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    assert {m.name for m in pkgutil.iter_modules(sim.__path__)} == named
