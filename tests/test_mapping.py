"""Your own CSV headers: `dlvstats ingest --map mapping.toml` reads an export
with French headers, status words and Paris local times; `dlvstats map --propose` proposes a
mapping from the header and first rows; refusals name what is unmapped. The month in Europe/Paris
counts the 01/11/2026 00:30 message in November."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from tests.test_adapters_helpers import rows

from dlvstats.cli import main
from dlvstats.ingest import ingest_paths
from dlvstats.ingest.canonical import DropError, ReadOptions
from dlvstats.ingest.mapping import MappingError, load_mapping, propose, with_read_options
from dlvstats.metrics.headlines import headline_rates
from dlvstats.report import MetricRun

DATA = Path(__file__).parent / "data" / "mapping"
EXPORT = DATA / "export_campagnes.csv"


def _ingest(db, path, mapping_path, **kwargs):
    mapping = load_mapping(mapping_path)
    return ingest_paths(db, [path], read_options=with_read_options(mapping, ReadOptions()),
                        timezone_name=mapping.read["timezone"], **kwargs)


def test_export_loads_with_the_mapping_through_the_cli(tmp_path, capsys):
    db = tmp_path / "m.duckdb"
    assert main(["ingest", "--map", str(DATA / "mapping.toml"), str(EXPORT), "--db", str(db), "--quiet"]) == 0
    got = rows(db, "SELECT message_id, recipient, strftime(sent_at, '%Y-%m-%d %H:%M'), account_id, list_id, "
                   "campaign_id, status, bounce_class FROM sends ORDER BY message_id")
    assert got == [
        ("MSG-0001", "alice@orange.fr", "2026-10-31 22:50", "acme", "clients", "Newsletter novembre", "delivered", None),
        ("MSG-0002", "bob@free.fr", "2026-10-31 23:30", "acme", "clients", "Newsletter novembre", "delivered", None),
        ("MSG-0003", "carol@sfr.fr", "2026-11-01 08:15", "acme", "clients", "Newsletter novembre", "bounced", "hard"),
        ("MSG-0004", "dave@laposte.net", "2026-11-02 09:00", "acme", "clients", "Newsletter novembre", "deferred", None),
        ("MSG-0005", "eve@wanadoo.fr", "2026-11-02 09:01", "acme", "clients", "Newsletter novembre", "sent", None),
    ]
    # the Paris month counts the message sent at 01/11/2026 00:30 Paris time in November; UTC does not
    def delivered(month, tz="UTC"):
        value = MetricRun(db, None, tz).table(headline_rates, month)["delivered"].iloc[0]
        return 0 if pd.isna(value) else int(value)  # a month without deliveries: NA, not 0

    assert (delivered("2026-11", "Europe/Paris"), delivered("2026-11")) == (1, 0)  # MSG-0002
    assert (delivered("2026-10", "Europe/Paris"), delivered("2026-10")) == (1, 2)


def test_a_status_the_mapping_forgot_is_refused_at_its_line(tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text((DATA / "mapping.toml").read_text(encoding="utf-8").replace('"Envoyé" = "sent"\n', ""),
                       encoding="utf-8")
    with pytest.raises(Exception) as refused:
        _ingest(tmp_path / "x.duckdb", EXPORT, mapping)
    assert f"{EXPORT}, line 6: status: \"Envoyé\" is not one of" in str(refused.value)
    summary = _ingest(tmp_path / "q.duckdb", EXPORT, mapping, on_error="quarantine")
    c = summary.counts["sends"]
    assert (c.read, c.loaded, c.rejected) == (5, 4, 1)  # every row accounted for


def test_unmapped_required_columns_are_named(tmp_path):
    mapping = tmp_path / "m.toml"
    text = (DATA / "mapping.toml").read_text(encoding="utf-8")
    mapping.write_text(text.replace('"Adresse e-mail" = "recipient"\n', "").replace('list_id = "clients"\n', ""),
                       encoding="utf-8")
    with pytest.raises(DropError) as refused:
        _ingest(tmp_path / "x.duckdb", EXPORT, mapping)
    message = str(refused.value)
    assert "missing required column(s) list_id, recipient" in message
    assert f"Map them in {mapping} under [columns]" in message and "[constants]" in message


def test_a_source_column_not_in_the_header_is_refused(tmp_path):
    mapping = tmp_path / "m.toml"
    text = (DATA / "mapping.toml").read_text(encoding="utf-8")
    mapping.write_text(text.replace('"Motif" = ', '"Motif du rejet" = '), encoding="utf-8")
    with pytest.raises(MappingError, match="names column\\(s\\) 'motif du rejet' that the header does not have"):
        _ingest(tmp_path / "x.duckdb", EXPORT, mapping)


@pytest.mark.parametrize("text, problem", [
    ('kind = "envois"\n', "kind = 'envois': give one of sends"),
    ('kind = "sends"\n[columns]\n"Email" = "adresse"\n', "[columns] names 'adresse', not a column of sends"),
    ('kind = "sends"\n[columns]\n"A" = "recipient"\n"B" = "recipient"\n', "recipient mapped more than once"),
    ('kind = "sends"\n[read]\nzone = "Europe/Paris"\n', "[read] zone unknown"),
    ('kind = "sends"\n[columns\n', "not valid TOML"),
])
def test_bad_mapping_files_say_what_is_wrong(tmp_path, text, problem):
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as refused:
        load_mapping(path)
    assert problem in str(refused.value) and str(path) in str(refused.value)


def test_propose_reads_the_header_and_first_rows(tmp_path):
    text = propose(EXPORT)
    path = tmp_path / "proposed.toml"
    path.write_text(text, encoding="utf-8")
    proposed = load_mapping(path)  # the proposal is a valid mapping file as written
    assert proposed.kind == "sends"
    assert proposed.columns == {
        "identifiant du message": "message_id", "adresse e-mail": "recipient", "date d'envoi": "sent_at",
        "campagne": "campaign_id", "statut": "status", "type de rebond": "bounce_class", "motif": "bounce_reason",
    }
    assert proposed.values["status"] == {"Délivré": "delivered", "Hard bounce": "bounced", "Différé": "deferred",
                                         "Envoyé": "sent"}
    assert proposed.read == {"delimiter": ";", "date_format": "%d/%m/%Y %H:%M"}
    assert '# "Ouvertures" = ?' in text  # an unrecognised column is said, not guessed
    assert "# account_id = " in text and "# list_id = " in text  # required and missing: said
    # completed with what no header can tell, it loads the export
    done = tmp_path / "done.toml"
    done.write_text(text.replace("[constants]", '[constants]\naccount_id = "acme"\nlist_id = "clients"'), encoding="utf-8")
    summary = ingest_paths(tmp_path / "p.duckdb", [EXPORT], timezone_name="Europe/Paris",
                           read_options=with_read_options(load_mapping(done), ReadOptions()), on_error="quarantine")
    c = summary.counts["sends"]
    assert (c.read, c.loaded, c.rejected) == (5, 5, 0)


def test_map_propose_cli(tmp_path, capsys):
    out = tmp_path / "mapping.toml"
    assert main(["map", "--propose", str(EXPORT), "--out", str(out)]) == 0
    assert load_mapping(out).kind == "sends"
    assert main(["map", "--propose", str(EXPORT), "--out", str(out)]) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err
    assert main(["map", "--propose", str(tmp_path / "none.csv")]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["map", "--help"])
    assert usage.value.code == 0
    assert "dlvstats ingest --map mapping.toml" in capsys.readouterr().out


def test_map_is_refused_with_an_esp_format(tmp_path, capsys):
    copy = shutil.copy(EXPORT, tmp_path / "e.csv")
    code = main(["ingest", "--map", str(DATA / "mapping.toml"), "--format", "ses", str(copy),
                 "--db", str(tmp_path / "x.duckdb")])
    assert code == 2 and "--map reads CSV exports" in capsys.readouterr().err


def test_crm_subscriptions_with_canonical_orders_beside(tmp_path):
    """docs/inputs.md's example: a CRM export mapped to subscriptions (collected_at, source, campaign),
    loaded in one drop with a canonical orders.csv."""
    from tests.helpers import write_csv

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "contacts_crm.csv").write_text(
        "Email;Date d'inscription;Date de collecte;Origine;Opération\n"
        "alice@orange.fr;03/11/2026;15/06/2019;Jeu concours;noel-2026\n"
        "bob@free.fr;04/11/2026;;Site;\n", encoding="utf-8")
    write_csv(drop / "orders.csv", ["ts", "account_id", "recipient", "order_id", "amount"],
              [["2026-11-05T10:00:00Z", "acme", "alice@orange.fr", "o1", "12.50"]])
    mapping = tmp_path / "contacts.toml"
    mapping.write_text(
        'kind = "subscriptions"\n[columns]\n"Email" = "recipient"\n"Date d\'inscription" = "ts"\n'
        '"Date de collecte" = "collected_at"\n"Origine" = "source"\n"Opération" = "campaign_id"\n'
        '[values.source]\n"Jeu concours" = "gift"\n'
        '[constants]\naccount_id = "acme"\nlist_id = "newsletter"\naction = "subscribe"\n'
        '[read]\ndate_format = "%d/%m/%Y"\ntimezone = "Europe/Paris"\n', encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    summary = _ingest(db, drop, mapping)
    assert {k: (c.read, c.loaded) for k, c in summary.counts.items()} == {"subscriptions": (2, 2), "orders": (1, 1)}
    got = rows(db, "SELECT recipient, strftime(ts, '%Y-%m-%d'), strftime(collected_at, '%Y-%m-%d'), source, "
                   "campaign_id, action FROM subscriptions ORDER BY recipient")
    assert got == [("alice@orange.fr", "2026-11-03", "2019-06-15", "gift", "noel-2026", "subscribe"),
                   ("bob@free.fr", "2026-11-04", None, "Site", None, "subscribe")]


def test_mailchimp_audience_export_with_the_shipped_example(tmp_path):
    """docs/examples/mailchimp_audience.toml on a Mailchimp audience export's layout (its documented
    columns: Email Address, OPTIN_TIME, CONFIRM_TIME, MEMBER_RATING, LEID...); propose picks the kind."""
    export = DATA / "subscribed_members_export.csv"
    assert "kind = \"subscriptions\"" in propose(export)
    example = Path(__file__).parent.parent / "docs" / "examples" / "mailchimp_audience.toml"
    db = tmp_path / "mc.duckdb"
    summary = ingest_paths(db, [export], read_options=with_read_options(load_mapping(example), ReadOptions()))
    c = summary.counts["subscriptions"]
    assert (c.read, c.loaded) == (2, 2)
    assert rows(db, "SELECT recipient, strftime(ts, '%Y-%m-%d %H:%M'), strftime(collected_at, '%Y-%m-%d'), source "
                    "FROM subscriptions ORDER BY recipient") == [
        ("alice@orange.fr", "2019-06-15 10:25", "2019-06-15", "mailchimp"),
        ("bob@free.fr", "2026-11-04 09:00", None, "mailchimp")]


FRENCH = {"message_id": "Identifiant du message", "sent_at": "Date d'envoi", "account_id": "Compte",
          "list_id": "Liste", "campaign_id": "Campagne", "recipient": "Adresse e-mail", "status": "Statut",
          "delivered_at": "Date de délivrance", "bounce_class": "Type de rebond", "smtp_code": "Code SMTP",
          "enhanced_status": "Code étendu", "bounce_reason": "Motif", "sending_ip": "IP d'envoi",
          "sending_domain": "Domaine d'envoi"}
STATUS_FR = {"delivered": "Délivré", "bounced": "Rejeté", "deferred": "Différé", "sent": "Envoyé"}


def test_simulator_sends_round_trip_through_a_french_export(tmp_path):
    """Round trip: the simulator's sends rewritten as a French export (own headers, status words,
    ';') and read back with a mapping give the same sends table as the canonical file."""
    import duckdb

    from dlvstats.simulate import simulate

    simulate(tmp_path / "sim", seed=5, contacts=150, months=1, end_month="2026-10", fmt="csv.gz")
    [drop] = sorted((tmp_path / "sim" / "drops").iterdir())
    sends = next(drop.glob("sends.csv*"))
    export = tmp_path / "export" / "envois_octobre.csv"
    export.parent.mkdir()
    con = duckdb.connect()
    status = "CASE status " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in STATUS_FR.items()) + " ELSE status END"
    cols = ", ".join((status if c == "status" else f'"{c}"') + " AS " + duckdb_ident(n) for c, n in FRENCH.items())
    con.execute(f"COPY (SELECT {cols} FROM read_csv($p, all_varchar=true, header=true)) TO '{export}' "
                "(FORMAT csv, HEADER true, DELIMITER ';')", {"p": str(sends)})
    con.close()
    mapping = tmp_path / "envois.toml"
    mapping.write_text('kind = "sends"\n[columns]\n' + "".join(f'{_toml(n)} = "{c}"\n' for c, n in FRENCH.items())
                       + "[values.status]\n" + "".join(f'"{v}" = "{k}"\n' for k, v in STATUS_FR.items()),
                       encoding="utf-8")
    canonical_db, mapped_db = tmp_path / "c.duckdb", tmp_path / "m.duckdb"
    ingest_paths(canonical_db, [sends])
    summary = ingest_paths(mapped_db, [export], read_options=with_read_options(load_mapping(mapping), ReadOptions()))
    table = "SELECT * EXCLUDE (drop_id) FROM sends ORDER BY message_id"
    expected = rows(canonical_db, table)
    assert len(expected) > 100 and {r[0] for r in rows(canonical_db, "SELECT DISTINCT status FROM sends")} >= {
        "delivered", "bounced"}
    assert rows(mapped_db, table) == expected
    assert summary.counts["sends"].read == len(expected)


def duckdb_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _toml(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)
