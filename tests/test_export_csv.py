"""CSV export: the formula-injection guard applies to text cells only; numbers stay numbers, read back
as numbers by a CSV reader (as a spreadsheet would)."""

from __future__ import annotations

import csv
import io

import pandas as pd

from dlvstats.export import to_csv


def test_numbers_stay_numbers_and_formulas_are_neutralised():
    frame = pd.DataFrame({
        "campaign_name": ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "Autumn sale"],
        "change": [-0.0123, 0.5, -3.0, 1e-05, -2.5],       # float column
        "delta_sends": [-12, 3, 0, -1, 7],                   # int column
        "mixed": ["-12.5", "+3", "-1.2e-05", "-", "-x"],    # text that is a number, and text that is not
    })
    rows = list(csv.DictReader(io.StringIO(to_csv(frame))))
    assert [r["campaign_name"] for r in rows] == [
        "'=HYPERLINK(\"http://x\")", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "Autumn sale"]
    assert [float(r["change"]) for r in rows] == [-0.0123, 0.5, -3.0, 1e-05, -2.5]
    assert [int(r["delta_sends"]) for r in rows] == [-12, 3, 0, -1, 7]
    assert [r["mixed"] for r in rows] == ["-12.5", "+3", "-1.2e-05", "'-", "'-x"]
