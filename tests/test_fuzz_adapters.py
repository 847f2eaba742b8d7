"""Fuzzing the ESP/MTA adapters, with the property of tests/test_fuzz_ingest.py:
a correct load or a clear refusal naming the file (and, for row errors, the line); the database
unchanged on refusal; never a traceback, a partial load or a hang.

Seeds are the documented-example payloads of tests/data/esp/<format>/; each example damages one
(truncation, random or invalid bytes, NUL bytes, huge fields, wrong JSON types, deep nesting,
enormous lines, non-objects) and ingests it with ``--format <format>``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.test_fuzz_ingest import (
    FUZZ,
    check_one,
    examples,
    fresh_drop,
    jsonl_mutation,
    make_base_db,
    mutation,
    report,
)

from dlvstats.ingest import adapters

pytestmark = pytest.mark.slow

SEEDS = Path(__file__).parent / "data" / "esp"
FORMATS = sorted(f for f in adapters.FORMATS if (SEEDS / f).is_dir())


def retype_json(data: bytes, seed: int) -> bytes:
    """Replace one leaf of each JSON document (whole file or per line) by a value of another type."""
    rng = random.Random(seed)
    replacements = [None, 12, -1, 1e308, "", "x" * 300, [], {}, [[[[[]]]]], True, "2026-13-45T99:99:99Z", "\u0000"]

    def mutate(doc):
        leaves = []

        def walk(node, parent, key):
            if isinstance(node, dict):
                for k in list(node):
                    walk(node[k], node, k)
            elif isinstance(node, list):
                for i in range(len(node)):
                    walk(node[i], node, i)
            elif parent is not None:
                leaves.append((parent, key))

        walk(doc, None, None)
        if leaves:
            parent, key = rng.choice(leaves)
            parent[key] = rng.choice(replacements)
        return doc

    text = data.decode("utf-8", "replace")
    try:
        return json.dumps(mutate(json.loads(text))).encode()
    except ValueError:
        out = []
        for line in text.splitlines():
            try:
                out.append(json.dumps(mutate(json.loads(line))))
            except ValueError:
                out.append(line)
        return ("\n".join(out) + "\n").encode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_fuzz_adapter(tmp_path, fmt, capsys):
    db = make_base_db(tmp_path)
    seeds = sorted(p for p in (SEEDS / fmt).iterdir() if p.is_file())
    outcomes = {"loaded": 0, "refused": 0}

    @settings(FUZZ, max_examples=examples(8))
    @given(
        seed=st.sampled_from(seeds),
        retype=st.integers(0, 3),
        mutations=st.lists(st.one_of(mutation(), jsonl_mutation()), max_size=2),
        on_error=st.sampled_from(["refuse", "quarantine"]),
    )
    def run(seed, retype, mutations, on_error):
        data = seed.read_bytes()
        if retype:
            data = retype_json(data, retype)
        for _, mutate in mutations:
            data = mutate(data)
        drop = fresh_drop(tmp_path)
        (drop / seed.name).write_bytes(data)
        outcomes[check_one(db, drop, on_error, input_format=fmt)] += 1

    run()
    report(f"adapter {fmt}", outcomes, capsys)
    assert outcomes["loaded"] + outcomes["refused"] >= 1
