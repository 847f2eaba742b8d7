"""The files a run writes: the canonical drops (``CanonicalWriter``, the default ``--as``; CSV and
Parquet through pyarrow, JSON lines through DuckDB, gzip with a fixed header so equal input gives
equal bytes), ``truth_messages.parquet`` and ``truth_machine_events.csv.gz``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from dlvstats.simulate.arrow import Dictionaries, dict_col, fixed_ids, iso_z, ts_col
from dlvstats.simulate.state import RunState
from dlvstats.simulate.tables import FORMATS, KINDS, MACHINE_TYPES, TIMESTAMP_COLUMNS


class DropWriter(Protocol):
    """Writes the logical canonical tables of each month (see ``to_table``); ``--as`` picks one.
    ``write_month`` runs on a background thread, one month at a time, in month order."""

    def write_month(self, month: str, tables: dict) -> None: ...

    def close(self) -> dict: ...


@contextmanager
def gzip_sink(path: Path):
    """A gzip stream with a fixed header (no name, no time) so that equal input gives equal bytes;
    level 1 because compression, not simulation, would otherwise dominate the run."""
    import gzip

    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1,
                                                mtime=0) as gz:
        yield gz


class CanonicalWriter:
    """One canonical drop per month: ``out_dir/drops/YYYY-MM/<kind>.<ext>``, every kind, every month
    (an empty kind still gets its header). Timestamps are written as ISO 8601 strings with ``Z`` in
    every format, amounts as decimals. CSV and Parquet through pyarrow, JSON lines through DuckDB."""

    def __init__(self, out_dir: Path, fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        self.root = Path(out_dir) / "drops"
        self.fmt = fmt
        self.rows: dict[str, int] = {k: 0 for k in KINDS}
        self.files = 0
        self._duck = None

    @staticmethod
    def render(table):
        """Timestamps to ISO strings, amount to decimal(12,2): what every canonical file holds."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for i, name in enumerate(table.column_names):
            if name in TIMESTAMP_COLUMNS:
                col = table.column(i).combine_chunks()
                ints = col.cast(pa.int64()).fill_null(-1).to_numpy()
                table = table.set_column(i, name, iso_z(ints))
            elif name == "amount":
                table = table.set_column(i, name, pc.round(table.column(i), 2).cast(pa.decimal128(12, 2)))
        return table

    def write_month(self, month: str, tables: dict) -> None:
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        folder = self.root / month
        folder.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            table = self.render(tables[kind])
            path = folder / f"{kind}.{self.fmt}"
            if self.fmt == "csv":
                pcsv.write_csv(table, str(path))
            elif self.fmt == "csv.gz":
                with gzip_sink(path) as gz:
                    pcsv.write_csv(table, gz)
            elif self.fmt == "parquet":
                pq.write_table(table, str(path), compression="zstd")
            else:
                self._write_json(table, path)
            self.rows[kind] += table.num_rows
            self.files += 1

    def _write_json(self, table, path: Path) -> None:
        import duckdb

        if self._duck is None:
            self._duck = duckdb.connect(":memory:")
            self._duck.execute("SET preserve_insertion_order = true").fetchall()
        target = path if self.fmt == "jsonl" else path.with_name(f".{path.name}.part")
        self._duck.register("month_table", table)
        try:
            # results stream in DuckDB 2: drain the COPY's row count so the connection is free again
            self._duck.execute(f"COPY (SELECT * FROM month_table) TO '{target}' (FORMAT json, COMPRESSION none)").fetchall()
        finally:
            self._duck.unregister("month_table")
        if self.fmt == "jsonl.gz":
            with gzip_sink(path) as gz, open(target, "rb") as src:
                shutil.copyfileobj(src, gz, 1 << 20)
            target.unlink()

    def close(self) -> dict:
        if self._duck is not None:
            self._duck.close()
        return {"drops_dir": "drops", "rows": dict(self.rows), "files": self.files}


WRITERS: dict[str, Callable[[Path, str], DropWriter]] = {"canonical": CanonicalWriter}


class TruthMessagesWriter:
    """truth_messages.parquet: one row per message, appended month by month, in message order."""

    def __init__(self, path: Path, d: Dictionaries):
        self.path, self.d, self.writer = path, d, None

    def write(self, part: dict) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({
            "message_id": fixed_ids("m", part["msg"], self.d.tag),
            "account_id": dict_col(part["acc"], self.d.accounts),
            "list_id": dict_col(part["list"], self.d.lists),
            "campaign_id": dict_col(part["campaign"], self.d.campaigns),
            "campaign_kind": dict_col(part["kind"], self.d.campaign_kinds),
            "provider": dict_col(part["provider"], self.d.providers),
            "age_year": pa.array(part["age_year"].astype(np.int16)),
            "sent_at": ts_col(part["sent_at"]),
            "delivered": pa.array(part["delivered"]),
            "bounce_category": dict_col(part["bounce"], self.d.bounce_categories),
            **{name: pa.array(part[name]) for name in (
                "mailbox_alive", "read", "pixel_loaded", "images_off", "plain_text", "mpp_user", "mpp", "machine_open",
                "scanner_protected", "scanned", "human_click", "complained")},
            "complaint_source": dict_col(part["complaint_source"], self.d.complaint_sources),
        })
        if self.writer is None:
            self.writer = pq.ParquetWriter(str(self.path), table.schema, compression="zstd", compression_level=1)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def write_machine_events(path: Path, st: RunState, tag: str) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    kind = np.concatenate(st.machine_kind) if st.machine_kind else np.zeros(0, dtype=np.int8)
    num = np.concatenate(st.machine_num) if st.machine_num else np.zeros(0, dtype=np.int64)
    mtype = np.concatenate(st.machine_type) if st.machine_type else np.zeros(0, dtype=np.int8)
    table = pa.table({
        "kind": dict_col(kind.astype(np.int64), pa.array(["opens", "clicks"])),
        "event_id": pc.if_else(pa.array(kind == 0), fixed_ids("o", num, tag), fixed_ids("c", num, tag)),
        "machine_type": dict_col(mtype.astype(np.int64), pa.array(MACHINE_TYPES)),
    })
    with gzip_sink(path) as gz:
        pcsv.write_csv(table, gz)
