"""Helpers to write tiny hand-built canonical drops in tests."""

from __future__ import annotations

import csv
from pathlib import Path


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def write_drop(directory: Path, tables: dict[str, tuple[list[str], list[list]]]) -> Path:
    """``tables``: kind -> (header, rows). Writes ``directory/<kind>.csv`` and returns directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for kind, (header, rows) in tables.items():
        write_csv(directory / f"{kind}.csv", header, rows)
    return directory


def assert_same_table(actual, expected, rtol: float = 1e-9) -> None:
    """Two metric tables hold the same cells: same columns in order, same rows in order, nulls in the same
    places (None, NaN and NA alike: engines' pandas types differ), integer-valued numbers exact, other
    numbers within ``rtol``, every other value equal."""
    import numpy as np
    import pandas as pd

    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected), (len(actual), len(expected))
    for column in expected.columns:
        a, e = actual[column].reset_index(drop=True), expected[column].reset_index(drop=True)
        nulls_a, nulls_e = a.isna().to_numpy(), e.isna().to_numpy()
        assert (nulls_a == nulls_e).all(), f"{column}: nulls differ at rows {np.flatnonzero(nulls_a != nulls_e)[:10]}"
        a, e = a[~nulls_a], e[~nulls_e]
        if pd.api.types.is_bool_dtype(e) or pd.api.types.is_bool_dtype(a):
            assert [bool(x) for x in a] == [bool(x) for x in e], column
        elif pd.api.types.is_numeric_dtype(e) and pd.api.types.is_numeric_dtype(a):
            fa, fe = a.to_numpy(dtype=float), e.to_numpy(dtype=float)
            if np.all(fe == np.round(fe)) and pd.api.types.is_integer_dtype(e):
                assert (fa == fe).all(), f"{column}: counts differ: {fa[fa != fe][:5]} vs {fe[fa != fe][:5]}"
            else:
                close = np.isclose(fa, fe, rtol=rtol, atol=1e-12)
                assert close.all(), f"{column}: {fa[~close][:5]} vs {fe[~close][:5]}"
        elif pd.api.types.is_datetime64_any_dtype(e):
            assert (pd.to_datetime(a).to_numpy() == pd.to_datetime(e).to_numpy()).all(), column
        else:
            assert list(a) == list(e), column
