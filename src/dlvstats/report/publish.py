"""Where a report goes and how it gets there: ``OUT/YYYY-MM`` (or an account's pack), the month's
lock (a second run of the same report fails at once with ``ReportBusy``), the manifest
(``report.json``), and the publication of a finished build with ``os.rename``: a previous report is
swapped out and deleted only once the new one is in place, and a run that was killed is cleaned up
by the next one. Never leaves a half-written ``OUT/YYYY-MM``."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from dlvstats.report.errors import ReportBusy

log = logging.getLogger("dlvstats.report")

MANIFEST = "report.json"


def account_slug(account_id: str) -> str:
    """A file-system-safe, stable directory name for an account id (ids are free text)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", account_id).strip("._") or "account"
    if safe != account_id:
        safe = f"{safe[:40]}-{hashlib.sha256(account_id.encode()).hexdigest()[:8]}"
    return safe


def report_dir(out_dir: Path, month: str, account_id: str | None = None) -> Path:
    """``OUT/YYYY-MM`` for the whole ESP, ``OUT/accounts/<account>/YYYY-MM`` for one client's pack."""
    out_dir = Path(out_dir)
    if account_id:
        return out_dir / "accounts" / account_slug(account_id) / month
    return out_dir / month


@contextlib.contextmanager
def month_lock(final: Path) -> Iterator[None]:
    """An exclusive, non-blocking lock per report directory; the holder's pid is written in it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    lock_path = final.parent / f".{final.name}.lock"
    with open(lock_path, "a+") as handle:  # closing releases the lock; the file stays (removing it would race)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle) or "another process"
            raise ReportBusy(
                f"another dlvstats report is rendering {final} ({holder}); wait for it to finish, "
                "or stop it, then run again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        try:
            yield
        finally:  # still locked: no later reader finds this run's line and names a finished process
            handle.seek(0)
            handle.truncate()
            handle.flush()


def _holder(handle, wait_seconds: float = 2.0) -> str:
    """The lock holder's line. A holder writes it right after taking the lock, so a reader that came
    in between waits for it (a moment) instead of naming nobody."""
    deadline = time.monotonic() + wait_seconds
    while True:
        handle.seek(0)
        text = handle.read().strip()
        if text or time.monotonic() >= deadline:
            return text
        time.sleep(0.05)


def read_manifest(directory: Path) -> dict | None:
    try:
        return json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_complete(directory: Path) -> bool:
    """A report that rendered, from data that covered the whole month."""
    manifest = read_manifest(directory)
    return bool(manifest and manifest.get("status") == "complete" and manifest.get("complete_data")
                and (directory / "index.html").exists())


def publish(build: Path, final: Path) -> None:
    """Move the finished build into place; a previous report is removed only once the new one is in."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.rename(final, old)
    os.rename(build, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover(final: Path) -> None:
    """Clean up after a run that was killed (called with the month's lock held): a report swapped out
    but not yet replaced is put back; half-built directories are removed."""
    parent = final.parent
    olds = sorted(parent.glob(f".{final.name}.old-*"))
    if olds and not final.exists():
        log.warning("restoring %s: an earlier run was stopped while replacing it", final)
        os.rename(olds.pop(), final)
    for stale in [*olds, *parent.glob(f".{final.name}.build-*")]:
        log.info("removing %s, left by a run that did not finish", stale.name)
        shutil.rmtree(stale, ignore_errors=True)


def keep_failed(build: Path, final: Path) -> Path:
    failed = final.parent / f"{final.name}.failed"
    if failed.exists():
        shutil.rmtree(failed)
    os.rename(build, failed)
    return failed



def write_manifest(directory: Path, manifest: dict) -> None:
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
