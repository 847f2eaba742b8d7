"""Fuzzing the canonical readers.

Property: whatever the bytes of a drop (truncated files, random bytes, wrong types, huge fields,
deeply nested or enormous JSON, NUL bytes, broken gzip/Parquet), ``ingest_paths`` either loads it
correctly (every row accounted for; the tables grew by exactly what the summary says) or refuses
it with ``IngestRefused``/``DropError`` naming the file (and, for row errors, the line), leaving the
database exactly as it was. Never another exception (a traceback), never a partial load, never a
hang: each example runs under a watchdog that kills the run if one example takes more than
``HANG_SECONDS``, and slow examples fail the test.

``DLVSTATS_FUZZ_SCALE`` multiplies the number of examples (default 1: about 100 random examples plus
the named cases, ~40 s on 2 cores; the note reports a run at scale 10).
"""

from __future__ import annotations

import faulthandler
import gzip
import io
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlvstats.ingest import DropError, IngestRefused, ingest_paths
from dlvstats.ingest.schema import KINDS

pytestmark = pytest.mark.slow

SCALE = float(os.environ.get("DLVSTATS_FUZZ_SCALE", "1"))
HANG_SECONDS = 120  # the watchdog: a hung example aborts the whole run with a traceback dump
SLOW_SECONDS = 30  # an example this slow fails the test
TABLES = ["sends", "opens", "clicks", "complaints", "subscriptions", "campaigns", "orders", "blocklists", "rejects"]

#: how many fuzz cases ran, per test (printed at the end of each test)
RAN: dict[str, int] = {}


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


# ---------------------------------------------------------------------------------------------
# Valid rows per kind, then mutations


def valid_value(kind: str, column, i: int) -> str:
    name = column.name
    if column.enum:
        return column.enum[i % len(column.enum)] if not (kind == "sends" and name == "status") else "delivered"
    if column.type == "timestamp":
        return f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
    if column.type == "recipient":
        return f"user{i}@example{i % 3}.com"
    if column.type == "boolean":
        return "false"
    if column.type == "integer":
        return "250"
    if column.type == "decimal":
        return f"{i}.50"
    return f"{name}-{i}"


def valid_records(kind: str, n: int, offset: int) -> list[dict]:
    spec = KINDS[kind]
    records = []
    for i in range(offset, offset + n):
        rec = {c.name: valid_value(kind, c, i) for c in spec.columns}
        if kind == "sends":
            rec["bounce_class"] = ""
        records.append(rec)
    return records


def render_csv(kind: str, records: list[dict]) -> bytes:
    names = KINDS[kind].column_names
    out = io.StringIO()
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for rec in records:
        writer.writerow([rec.get(n, "") for n in names])
    return out.getvalue().encode("utf-8")


def render_jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")


WRONG_VALUES = st.one_of(
    st.sampled_from([
        "", " ", "abc", "12,5", "1e309", "-1", "NaN", "null", "true", "9" * 40, "2026-13-45T99:99:99",
        "2026-10-01T10:00:00+25:00", "1700000000", "<img src=x onerror=alert(1)>", "'; DROP TABLE sends; --",
        "\x00", "a\x00b", "é", "\u202e", "\"", "\"\"", "a,b", "line\nbreak", "\r", "@", "@@.", "x@y",
    ]),
    st.text(max_size=40),
)


@st.composite
def mutation(draw):
    """One mutation of a file's bytes: (name, function bytes -> bytes)."""
    choice = draw(st.sampled_from([
        "truncate", "insert_bytes", "nul_bytes", "huge_field", "replace_value", "drop_header",
        "duplicate_lines", "invalid_utf8", "unbalanced_quote",
    ]))
    if choice == "truncate":
        frac = draw(st.floats(0, 1))
        return choice, lambda b: b[: int(len(b) * frac)]
    if choice == "insert_bytes":
        frac, junk = draw(st.floats(0, 1)), draw(st.binary(min_size=1, max_size=64))
        return choice, lambda b: b[: int(len(b) * frac)] + junk + b[int(len(b) * frac):]
    if choice == "nul_bytes":
        frac, n = draw(st.floats(0, 1)), draw(st.integers(1, 5))
        return choice, lambda b: b[: int(len(b) * frac)] + b"\x00" * n + b[int(len(b) * frac):]
    if choice == "huge_field":
        size = draw(st.sampled_from([70_000, 1_100_000, 2_500_000]))
        return choice, lambda b: b.replace(b"-1", b"-1" + b"x" * size, 1)
    if choice == "replace_value":
        old = draw(st.sampled_from([b"2026-10-0", b"user", b"250", b".50", b"false", b"delivered", b"Z", b"@", b"-1"]))
        new = draw(WRONG_VALUES).encode("utf-8", "surrogatepass")
        return choice, lambda b: b.replace(old, new, 1)
    if choice == "drop_header":
        return choice, lambda b: b.split(b"\n", 1)[1] if b"\n" in b else b""
    if choice == "duplicate_lines":
        return choice, lambda b: b + b
    if choice == "invalid_utf8":
        frac, junk = draw(st.floats(0, 1)), draw(st.sampled_from([b"\xff", b"\xc3", b"\xe9", b"\x80\x81", b"\xed\xa0\x80"]))
        return choice, lambda b: b[: int(len(b) * frac)] + junk + b[int(len(b) * frac):]
    return choice, lambda b: b.replace(b",", b',"', 1)


def deep_json(depth: int, kind_of: str) -> str:
    if kind_of == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@st.composite
def jsonl_mutation(draw):
    """JSON-specific damage: deep nesting, enormous lines, non-objects, wrong JSON types."""
    choice = draw(st.sampled_from(["deep", "enormous", "not_object", "wrong_type", "bytes"]))
    if choice == "deep":
        depth = draw(st.sampled_from([100, 1000, 10_000, 100_000]))
        shape = draw(st.sampled_from(["array", "object"]))
        where = draw(st.sampled_from(["value", "line"]))
        nested = deep_json(depth, shape)
        if where == "line":
            return choice, lambda b: b + nested.encode() + b"\n"
        return choice, lambda b: b.replace(b'"Z"', b'"Z", "extra": ' + nested.encode(), 1) if b'"Z"' in b else b + b'{"x": ' + nested.encode() + b"}\n"
    if choice == "enormous":
        size = draw(st.sampled_from([1_000_000, 8_000_000]))
        return choice, lambda b: b + b'{"message_id": "' + b"m" * size + b'", "ts": "2026-10-01T00:00:00Z"}\n'
    if choice == "not_object":
        line = draw(st.sampled_from([b"[]", b"1", b'"text"', b"null", b"true", b"{", b"}", b"{}", b'{"a":1}{"b":2}']))
        return choice, lambda b: line + b"\n" + b
    if choice == "wrong_type":
        value = draw(st.sampled_from([b"12", b"[1,2]", b'{"a":1}', b"null", b"true", b"1e400", b'"\\u0000"', b'"\\ud800"']))
        return choice, lambda b: re.sub(rb'("(?:ts|sent_at|amount|recipient|message_id)": )"[^"]*"', lambda m: m.group(1) + value, b, count=1)
    junk = draw(st.binary(min_size=1, max_size=200))
    return choice, lambda b: b + junk


# ---------------------------------------------------------------------------------------------
# The database and its invariant


def snapshot(db: Path) -> dict:
    """Row count and a content hash of every table (one query)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        tables = [t for t in TABLES + ["message_facts", "drops"] if t in present]
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*), sum(hash(t)) FROM {t} t" for t in tables)
        return {name: (n, h) for name, n, h in con.execute(sql).fetchall()}
    finally:
        con.close()


def make_base_db(directory: Path) -> Path:
    """A database already holding data, so 'unchanged' and 'grew by what was loaded' mean something."""
    drop = directory / "base"
    drop.mkdir(parents=True)
    for kind in ("sends", "opens", "orders"):
        (drop / f"{kind}.csv").write_bytes(render_csv(kind, valid_records(kind, 5, 1000)))
    db = directory / "fuzz.duckdb"
    ingest_paths(db, [drop])
    return db


_LAST: dict[Path, dict] = {}


def check_one(db: Path, drop: Path, on_error: str, input_format: str = "canonical") -> str:
    """Run one ingest and assert the property; returns 'loaded' or 'refused'."""
    before = _LAST.get(db) or snapshot(db)
    started = time.monotonic()
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True, file=sys.__stderr__)
    try:
        summary = ingest_paths(db, [drop], on_error=on_error, input_format=input_format)
    except (IngestRefused, DropError) as exc:
        elapsed = time.monotonic() - started
        message = str(exc)
        assert str(drop) in message or any(str(p) in message for p in drop.rglob("*")), message
        if isinstance(exc, IngestRefused):
            assert re.search(r", line \d+: ", message), message
            assert exc.bad_rows and all(r.line >= 1 for r in exc.bad_rows)
        after = snapshot(db)
        assert after == before, "a refused ingest changed the database"
        outcome = "refused"
    else:
        elapsed = time.monotonic() - started
        after = snapshot(db)
        for kind, c in summary.counts.items():
            assert c.read == c.loaded + c.updated + c.duplicates + c.rejected, (kind, c)
            assert after[kind][0] == before[kind][0] + c.loaded, (kind, c, before[kind], after[kind])
        rejected = sum(c.rejected for c in summary.counts.values())
        assert after["rejects"][0] == before["rejects"][0] + rejected
        if on_error == "refuse":
            assert rejected == 0
        assert after["drops"][0] == before["drops"][0] + 1
        outcome = "loaded"
    finally:
        faulthandler.cancel_dump_traceback_later()
    _LAST[db] = after
    assert elapsed < SLOW_SECONDS, f"one example took {elapsed:.1f} s"
    return outcome


def fresh_drop(root: Path) -> Path:
    drop = root / "drop"
    if drop.exists():
        shutil.rmtree(drop)
    drop.mkdir()
    return drop


def report(name: str, outcomes: dict, capsys=None) -> None:
    """Say how many cases ran (shown in pytest's output; also appended to $DLVSTATS_FUZZ_LOG if set)."""
    RAN[name] = sum(outcomes.values())
    line = f"[fuzz] {name}: {RAN[name]} cases ({outcomes})"
    if capsys is not None:
        with capsys.disabled():
            print(f"\n{line}")
    if os.environ.get("DLVSTATS_FUZZ_LOG"):
        with open(os.environ["DLVSTATS_FUZZ_LOG"], "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


FUZZ = settings(
    deadline=None, print_blob=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# ---------------------------------------------------------------------------------------------


def test_fuzz_canonical_csv(tmp_path, capsys):
    db = make_base_db(tmp_path)
    outcomes = {"loaded": 0, "refused": 0}

    @settings(FUZZ, max_examples=examples(45))
    @given(
        kind=st.sampled_from(list(KINDS)),
        n=st.integers(0, 6),
        gz=st.booleans(),
        mutations=st.lists(mutation(), max_size=3),
        on_error=st.sampled_from(["refuse", "quarantine"]),
    )
    def run(kind, n, gz, mutations, on_error):
        data = render_csv(kind, valid_records(kind, n, 0))
        for _, mutate in mutations:
            data = mutate(data)
        drop = fresh_drop(tmp_path)
        if gz:
            (drop / f"{kind}.csv.gz").write_bytes(gzip.compress(data))
        else:
            (drop / f"{kind}.csv").write_bytes(data)
        outcomes[check_one(db, drop, on_error)] += 1

    run()
    report("canonical csv", outcomes, capsys)
    assert outcomes["loaded"] and outcomes["refused"]  # the generator reaches both outcomes


def test_fuzz_canonical_jsonl(tmp_path, capsys):
    db = make_base_db(tmp_path)
    outcomes = {"loaded": 0, "refused": 0}

    @settings(FUZZ, max_examples=examples(35))
    @given(
        kind=st.sampled_from(list(KINDS)),
        n=st.integers(0, 6),
        gz=st.booleans(),
        mutations=st.lists(st.one_of(mutation(), jsonl_mutation()), max_size=3),
        on_error=st.sampled_from(["refuse", "quarantine"]),
    )
    def run(kind, n, gz, mutations, on_error):
        data = render_jsonl(valid_records(kind, n, 0))
        for _, mutate in mutations:
            data = mutate(data)
        drop = fresh_drop(tmp_path)
        if gz:
            (drop / f"{kind}.jsonl.gz").write_bytes(gzip.compress(data))
        else:
            (drop / f"{kind}.jsonl").write_bytes(data)
        outcomes[check_one(db, drop, on_error)] += 1

    run()
    report("canonical jsonl", outcomes, capsys)
    assert outcomes["loaded"] and outcomes["refused"]


def test_fuzz_binary_containers(tmp_path, capsys):
    """Parquet and gzip containers: truncated, bit-flipped, or random bytes under the right name."""
    db = make_base_db(tmp_path)
    outcomes = {"loaded": 0, "refused": 0}
    parquet = {}
    con = duckdb.connect()
    for kind in KINDS:
        path = tmp_path / f"valid_{kind}.parquet"
        records = valid_records(kind, 4, 0)
        con.execute("CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM read_json_auto($p)",
                    {"p": str(_write(tmp_path / f"valid_{kind}.json", json.dumps(records).encode()))})
        con.execute("COPY t TO $p (FORMAT parquet)", {"p": str(path)})
        parquet[kind] = path.read_bytes()
    con.close()

    @settings(FUZZ, max_examples=examples(20))
    @given(
        kind=st.sampled_from(list(KINDS)),
        container=st.sampled_from(["parquet", "csv.gz", "jsonl.gz"]),
        damage=st.sampled_from(["none", "truncate", "flip", "random"]),
        frac=st.floats(0, 1),
        junk=st.binary(min_size=0, max_size=300),
    )
    def run(kind, container, damage, frac, junk):
        if container == "parquet":
            data = parquet[kind]
        elif container == "csv.gz":
            data = gzip.compress(render_csv(kind, valid_records(kind, 3, 0)))
        else:
            data = gzip.compress(render_jsonl(valid_records(kind, 3, 0)))
        cut = int(len(data) * frac)
        if damage == "truncate":
            data = data[:cut]
        elif damage == "flip" and data:
            i = min(cut, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        elif damage == "random":
            data = junk
        drop = fresh_drop(tmp_path)
        (drop / f"{kind}.{container}").write_bytes(data)
        outcomes[check_one(db, drop, "refuse")] += 1

    run()
    report("parquet/gzip containers", outcomes, capsys)
    assert outcomes["loaded"] and outcomes["refused"]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("shape", ["nested_value", "nested_line", "enormous_line"])
def test_named_hostile_json_cases(tmp_path, shape):
    """The issue's named cases, once each, deterministically (beside the random ones above)."""
    db = make_base_db(tmp_path)
    drop = fresh_drop(tmp_path)
    good = render_jsonl(valid_records("opens", 2, 0))
    if shape == "nested_value":
        bad = b'{"message_id": "m", "ts": "2026-10-01T00:00:00Z", "x": ' + deep_json(200_000, "array").encode() + b"}\n"
    elif shape == "nested_line":
        bad = deep_json(200_000, "object").encode() + b"\n"
    else:
        bad = b'{"message_id": "' + b"m" * 12_000_000 + b'", "ts": "2026-10-01T00:00:00Z"}\n'
    (drop / "opens.jsonl").write_bytes(good + bad)
    assert check_one(db, drop, "refuse") in ("loaded", "refused")
    assert check_one(db, drop, "quarantine") == "loaded"
