"""Messy real-world CSV files: ';' separators, Latin-1 / Windows-1252, BOM, CRLF,
quoted newlines, decimal commas, day-first dates. Each is either read correctly (detected, or
through --delimiter / --encoding / --date-format) or refused with a message naming the option;
never mojibake in the database."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dlvstats.ingest import DropError, IngestRefused, ReadOptions, ingest_paths

ORDERS_HEADER = ["ts", "account_id", "recipient", "order_id", "amount", "campaign_id"]
SENDS_HEADER = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
                "bounce_class", "bounce_reason"]


def write(path: Path, header: list[str], rows: list[list[str]], *, sep=";", encoding="utf-8", eol="\r\n",
          bom=False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)

    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in (sep, "\n", '"')) else v

    text = eol.join(sep.join(cell(v) for v in row) for row in [header, *rows]) + eol
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def query(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


FRENCH_ORDERS = [
    ["27/11/2026 14:03", "acc1", "Émile@Orange.fr", "o1", "12,50", "Noël – soldes €"],
    ["28/11/2026 09:15", "acc1", "zoé@free.fr", "o2", "1 234,50", "l’été"],
    ["01/12/2026 23:59", "acc1", "bob@gmail.com", "o3\nsuite", "-3,5", "c3"],
]


def test_french_windows_1252_export_is_detected_and_read_exactly(tmp_path):
    """';' + cp1252 (€, ’, –) + CRLF + quoted newline + decimal commas + dd/mm/yyyy HH:MM, no option."""
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, FRENCH_ORDERS, encoding="cp1252")
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [tmp_path / "drop"], timezone_name="Europe/Paris")
    assert summary.counts["orders"].loaded == 3
    rows = query(db, "SELECT order_id, recipient, amount, campaign_id, strftime(ts, '%Y-%m-%d %H:%M') FROM orders ORDER BY ts")
    assert rows == [
        ("o1", "émile@orange.fr", Decimal("12.5"), "Noël – soldes €", "2026-11-27 13:03"),  # Paris = UTC+1
        ("o2", "zoé@free.fr", Decimal("1234.5"), "l’été", "2026-11-28 08:15"),
        ("o3\nsuite", "bob@gmail.com", Decimal("-3.5"), "c3", "2026-12-01 22:59"),
    ]
    notes = "\n".join(summary.notes)
    assert "Windows-1252" in notes and "';'-separated" in notes and "day/month/year" in notes
    assert "decimal commas" in notes


def test_latin1_export_is_read_natively(tmp_path):
    rows = [r[:5] + ["Noël"] for r in FRENCH_ORDERS]
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows, encoding="latin-1")
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [tmp_path / "drop"])
    assert "Latin-1" in "\n".join(summary.notes)
    assert query(db, "SELECT DISTINCT campaign_id FROM orders") == [("Noël",)]
    assert ("émile@orange.fr",) in query(db, "SELECT recipient FROM orders")


def test_windows_1252_bytes_after_the_sniffed_head_switch_from_latin1(tmp_path):
    """é (Latin-1 compatible) in the first 64 KiB, a '€' (0x80) only further down: read as cp1252."""
    filler = [[f"2026-11-27T10:00:{i % 60:02d}", "acc1", f"u{i}@free.fr", f"f{i}", "1,00", "café"] for i in range(3000)]
    rows = filler + [["2026-11-28T10:00:00", "acc1", "x@free.fr", "euro", "2,00", "prix en €"]]
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows, encoding="cp1252")
    assert (tmp_path / "drop" / "orders.csv").read_bytes()[:65536].find(b"\x80") == -1
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [tmp_path / "drop"])
    assert "Windows-1252" in "\n".join(summary.notes)
    assert query(db, "SELECT campaign_id FROM orders WHERE order_id = 'euro'") == [("prix en €",)]
    assert query(db, "SELECT DISTINCT campaign_id FROM orders WHERE order_id <> 'euro'") == [("café",)]


def test_late_invalid_utf8_is_refused_naming_encoding_then_loads_with_it(tmp_path):
    """A file that looks UTF-8 (ASCII) for 64 KiB and has a cp1252 byte later: refused, not guessed."""
    filler = [[f"2026-11-27T10:00:{i % 60:02d}", "acc1", f"u{i}@free.fr", f"f{i}", "1.00", "c"] for i in range(3000)]
    rows = filler + [["2026-11-28T10:00:00", "acc1", "x@free.fr", "late", "2.00", "Noël"]]
    path = write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows, sep=",", encoding="cp1252")
    assert path.stat().st_size > 65536
    db = tmp_path / "db.duckdb"
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(db, [tmp_path / "drop"])
    message = str(refused.value)
    assert "orders.csv, line 3002" in message and "--encoding cp1252" in message
    ingest_paths(db, [tmp_path / "drop"], read_options=ReadOptions(encoding="cp1252"))
    assert query(db, "SELECT campaign_id FROM orders WHERE order_id = 'late'") == [("Noël",)]


def test_utf8_bom_crlf_and_quoted_newlines(tmp_path):
    rows = [
        ["m1", "2026-11-27T10:00:00Z", "a", "l", "c", "ana@gmail.com", "delivered", "", ""],
        ["m2", "2026-11-27T10:00:00Z", "a", "l", "c", "bé@free.fr", "bounced", "hard", "550 5.1.1\r\nUser unknown; \"bé\""],
    ]
    write(tmp_path / "drop" / "sends.csv", SENDS_HEADER, rows, sep=",", bom=True)
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [tmp_path / "drop"])
    assert summary.counts["sends"].loaded == 2  # without stripping the BOM, 'message_id' would be missing
    assert "byte-order mark" in "\n".join(summary.notes)
    assert query(db, "SELECT bounce_reason FROM sends WHERE message_id = 'm2'") == [
        ('550 5.1.1\r\nUser unknown; "bé"',)
    ]


def test_utf16_with_bom_tab_separated(tmp_path):
    """Excel's 'Unicode text' export: UTF-16 with a BOM, tab-separated."""
    path = tmp_path / "drop" / "orders.csv"
    write(path, ORDERS_HEADER, FRENCH_ORDERS[:2], sep="\t", encoding="utf-16")
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [tmp_path / "drop"])
    assert "UTF-16" in "\n".join(summary.notes) and "tab-separated" in "\n".join(summary.notes)
    assert query(db, "SELECT campaign_id FROM orders ORDER BY order_id") == [("Noël – soldes €",), ("l’été",)]


def test_utf8_file_read_as_latin1_is_refused_not_stored_as_mojibake(tmp_path):
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, FRENCH_ORDERS, encoding="utf-8")
    db = tmp_path / "db.duckdb"
    for encoding in ("latin-1", "cp1252"):
        with pytest.raises(DropError, match=r"UTF-8 text.*mojibake.*Drop `--encoding`"):
            ingest_paths(db, [tmp_path / "drop"], read_options=ReadOptions(encoding=encoding))
    assert not db.exists() or query(db, "SELECT count(*) FROM orders") == [(0,)]


def test_file_mixing_utf8_and_latin1_is_refused(tmp_path):
    """Valid UTF-8 'é' plus one Latin-1 byte: any one-byte reading makes 'Ã©' somewhere: refuse it."""
    path = tmp_path / "drop" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        ";".join(ORDERS_HEADER).encode() + b"\n"
        + "2026-11-27T10:00:00;a;x@free.fr;o1;1,00;café\n".encode()
        + "2026-11-27T10:00:00;a;y@free.fr;o2;1,00;thé\n".encode("latin-1")
    )
    db = tmp_path / "db.duckdb"
    with pytest.raises(DropError, match=r"mojibake.*mixes encodings"):
        ingest_paths(db, [tmp_path / "drop"])
    assert query(db, "SELECT count(*) FROM orders") == [(0,)]


def test_byte_undefined_in_windows_1252_is_refused_with_line(tmp_path):
    path = tmp_path / "drop" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        ";".join(ORDERS_HEADER).encode() + b"\r\n"
        + "2026-11-27T10:00:00;a;x@free.fr;o1;1,00;€uro\r\n".encode("cp1252")
        + b"2026-11-27T10:00:00;a;y@free.fr;o2;1,00;bad \x81 byte\r\n"
    )
    with pytest.raises(DropError, match=r"orders.csv, line 3: byte 0x81 is not valid Windows-1252.*--encoding"):
        ingest_paths(tmp_path / "db.duckdb", [tmp_path / "drop"])


def test_decimal_comma_needs_a_signal_in_comma_separated_files(tmp_path):
    rows = [["2026-11-27T10:00:00", "acc1", "x@free.fr", "o1", "12,50", "c"]]
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows, sep=",")
    db = tmp_path / "db.duckdb"
    with pytest.raises(IngestRefused, match=r'amount: "12,50" is not a decimal number with a dot \(for 12,50 pass --decimal-comma\)'):
        ingest_paths(db, [tmp_path / "drop"])
    ingest_paths(db, [tmp_path / "drop"], read_options=ReadOptions(decimal_comma=True))
    assert query(db, "SELECT amount FROM orders") == [(Decimal("12.5"),)]


def test_decimal_forms_in_a_semicolon_file(tmp_path):
    values = {"a": "12,50", "b": "12.50", "c": "1 234,5", "d": "1.234,50", "e": "1\u00a0234", "f": "-0,01", "g": "7"}
    rows = [["2026-11-27T10:00:00", "acc1", "x@free.fr", k, v, "c"] for k, v in values.items()]
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows)
    db = tmp_path / "db.duckdb"
    ingest_paths(db, [tmp_path / "drop"])
    got = dict(query(db, "SELECT order_id, amount FROM orders"))
    assert got == {"a": Decimal("12.5"), "b": Decimal("12.5"), "c": Decimal("1234.5"), "d": Decimal("1234.5"),
                   "e": Decimal(1234), "f": Decimal("-0.01"), "g": Decimal(7)}


def test_month_first_dates_are_detected_too(tmp_path):
    rows = [["11/27/2026 14:03", "acc1", "x@free.fr", "o1", "1", "c"], ["12/01/2026 9:05:30", "acc1", "x@free.fr", "o2", "1", "c"]]
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows, sep=",")
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [tmp_path / "drop"])
    assert "month/day/year" in "\n".join(summary.notes)
    assert query(db, "SELECT strftime(ts, '%Y-%m-%d %H:%M:%S') FROM orders ORDER BY ts") == [
        ("2026-11-27 14:03:00",), ("2026-12-01 09:05:30",)
    ]


def test_ambiguous_dates_are_refused_naming_date_format_then_load_with_it(tmp_path):
    rows = [["01/02/2026 10:00", "acc1", "x@free.fr", "o1", "1", "c"], ["03/04/2026 11:00", "acc1", "x@free.fr", "o2", "1", "c"]]
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows)
    db = tmp_path / "db.duckdb"
    with pytest.raises(DropError, match=r"could be day/month or month/day.*--date-format '%d/%m/%Y %H:%M'"):
        ingest_paths(db, [tmp_path / "drop"])
    ingest_paths(db, [tmp_path / "drop"], read_options=ReadOptions(date_format="%d/%m/%Y %H:%M"))
    assert query(db, "SELECT strftime(ts, '%Y-%m-%d') FROM orders ORDER BY ts") == [("2026-02-01",), ("2026-04-03",)]


def test_bad_date_format_pattern_is_refused(tmp_path):
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, FRENCH_ORDERS[:1])
    with pytest.raises(DropError, match=r"--date-format '%Q' is not a strptime pattern"):
        ingest_paths(tmp_path / "db.duckdb", [tmp_path / "drop"], read_options=ReadOptions(date_format="%Q"))


def test_ambiguous_separator_is_refused_naming_delimiter(tmp_path):
    path = tmp_path / "drop" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_text("ts,account;recipient,order;amount\n2026-11-27T10:00:00,a;x@y.fr,o;1\n", encoding="utf-8")
    with pytest.raises(DropError, match=r"cannot tell the field separator.*--delimiter"):
        ingest_paths(tmp_path / "db.duckdb", [tmp_path / "drop"])


def test_separator_chosen_by_known_column_names_when_both_appear(tmp_path):
    """A header that holds ';' (the separator) and ',' (inside one quoted extra column name)."""
    path = tmp_path / "drop" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        'ts;account_id;recipient;order_id;amount;"note, free"\n2026-11-27T10:00:00;a;x@y.fr;o1;1,5;hi\n', encoding="utf-8"
    )
    db = tmp_path / "db.duckdb"
    summary = ingest_paths(db, [tmp_path / "drop"])
    assert summary.counts["orders"].ignored_columns == {"note, free"}
    assert query(db, "SELECT amount FROM orders") == [(Decimal("1.5"),)]


def test_wrong_explicit_separator_says_which_one_the_header_uses(tmp_path):
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, FRENCH_ORDERS[:1])
    with pytest.raises(DropError, match=r"missing required column.*looks ';'-separated: pass `--delimiter`"):
        ingest_paths(tmp_path / "db.duckdb", [tmp_path / "drop"], read_options=ReadOptions(delimiter=","))


def test_bad_row_in_messy_file_is_named_by_physical_line(tmp_path):
    """cp1252 + CRLF + a quoted newline before the bad row: the refusal names the physical line."""
    rows = [FRENCH_ORDERS[2], ["28/11/2026 09:15", "acc1", "pas-une-adresse", "o9", "1,00", "c"]]
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows, encoding="cp1252")
    with pytest.raises(IngestRefused) as refused:
        ingest_paths(tmp_path / "db.duckdb", [tmp_path / "drop"])
    assert 'orders.csv, line 4: recipient: "pas-une-adresse" is not an e-mail address' in str(refused.value)


def test_cli_flags_delimiter_encoding_date_format(tmp_path):
    """The CLI passes --delimiter, --encoding and --date-format through (ambiguous dates need it)."""
    rows = [["01/02/2026 10:00", "acc1", "Émile@free.fr", "o1", "2,5", "Noël"]]
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, rows, sep="|", encoding="cp1252")
    db = tmp_path / "db.duckdb"
    base = [sys.executable, "-m", "dlvstats.cli", "-q", "ingest", str(tmp_path / "drop"), "--db", str(db)]
    refused = subprocess.run(base, capture_output=True, text=True, check=False)
    assert refused.returncode == 3 and "--date-format" in refused.stderr
    done = subprocess.run(
        base + ["--delimiter", "|", "--encoding", "cp1252", "--date-format", "%d/%m/%Y %H:%M"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT recipient, amount, campaign_id, strftime(ts, '%m-%d') FROM orders") == [
        ("émile@free.fr", Decimal("2.5"), "Noël", "02-01")
    ]


def test_explicit_latin1_on_a_windows_1252_file_names_cp1252(tmp_path):
    """Latin-1 would turn '€' (0x80) into a control character: refused, naming --encoding cp1252."""
    write(tmp_path / "drop" / "orders.csv", ORDERS_HEADER, FRENCH_ORDERS, encoding="cp1252")
    db = tmp_path / "db.duckdb"
    with pytest.raises(DropError, match=r"bytes 0x80-0x9F.*Pass `--encoding cp1252`"):
        ingest_paths(db, [tmp_path / "drop"], read_options=ReadOptions(encoding="latin-1"))
    assert query(db, "SELECT count(*) FROM orders") == [(0,)]
