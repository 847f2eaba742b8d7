"""The monthly report: run every analysis notebook for a month with papermill, assemble one
self-contained HTML page (summary on top, each analysis below, plotly.js embedded once), write the
metric tables beside it as CSV, and e-mail it.

How a run goes (``run_report``):

1. take the month's lock (``fcntl.flock`` on ``OUT/.YYYY-MM.lock``): a second run of the same month
   fails at once with ``ReportBusy`` instead of writing into the same files;
2. refuse to overwrite a complete report unless ``force``; load ``--ingest`` drops;
3. the freshness gate: the newest send, open, click or complaint must reach the month's last day,
   else the report is marked incomplete, and e-mailing it is refused unless ``allow_incomplete``;
4. build in a hidden temporary directory beside the final one: the notebooks run in a pool of worker
   processes (each its own papermill kernel, ``kernel_name="python3"``) while this process computes
   the summary and the CSV tables through the metric functions (the same functions the notebooks
   call); a failed notebook stops the run, and the build moves to ``OUT/YYYY-MM.failed/`` with the
   executed notebook holding its error;
5. assemble ``index.html`` from the executed notebooks' outputs (no code, no per-page nbconvert), scrub
   any e-mail address from every output, then publish with ``os.rename`` (the previous report, when
   forced, is swapped out and deleted only after the new one is in place);
6. e-mail (or with ``dry_run`` write ``email.eml``) through ``dlvstats.mail``.

What it must not do: put a recipient address anywhere (outputs are scrubbed, and the summary only
reads aggregate metric tables), let report text run as code (every string reaching HTML goes through
Jinja autoescape, the bleach allowlist, or the plotly text escaper below), or leave a half-written
``OUT/YYYY-MM``.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import fcntl
import hashlib
import inspect
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dlvstats import __version__
from dlvstats.config import PACKAGE_DIR, PACKAGED_NOTEBOOKS_DIR, project_root
from dlvstats.i18n import ENGLISH, Locale, column_label, translate_figure
from dlvstats.scrub import AddressScrubber

log = logging.getLogger(__name__)

TEMPLATES_DIR = PACKAGE_DIR / "templates"
KERNEL_NAME = "python3"
#: A cell that runs longer than this (seconds) fails its notebook, so cron never hangs for ever.
CELL_TIMEOUT_SECONDS = 1800
#: Opens, clicks and complaints of a campaign mostly arrive within a week of its sending.
IMMATURE_DAYS = 7
#: Gift-campaign purchases are followed for 90 days.
PURCHASE_WINDOW_DAYS = 90
#: Hard-bounce rate (per send) above which a month, or a day, counts as a spike (with the rules below).
HARD_BOUNCE_LINE = 0.02
HARD_BOUNCE_DAY_LINE = 0.05
HARD_BOUNCE_DAY_MIN_SENDS = 200
#: Retries of the SMTP send (mail.send backs off 2 s, 4 s, 8 s between them).
MAIL_RETRIES = 3
MAIL_BACKOFF_SECONDS = 2.0
MANIFEST = "report.json"
REPORT_TITLE = "Deliverability report"

#: Notebook parameters the runner knows how to fill; a notebook gets only those it declares.
KNOWN_PARAMETERS = ("db_path", "date_from", "date_to", "account_id", "month")


# --------------------------------------------------------------------------------------------------
# Errors (each carries the CLI exit code; docs/monthly-report.md lists them)

# defined once, for the CLI and the report; re-exported here as report.EXIT_* for its callers
from dlvstats.exit_codes import (  # noqa: F401
    EXIT_BUSY,
    EXIT_EXISTS,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_INGEST_REFUSED,
    EXIT_MAIL_FAILED,
    EXIT_NOTEBOOK_FAILED,
    EXIT_OK,
    EXIT_USAGE,
)


class ReportError(RuntimeError):
    exit_code = EXIT_FAILED


class ReportUsageError(ReportError):
    exit_code = EXIT_USAGE


class ReportBusy(ReportError):
    exit_code = EXIT_BUSY


class DataIncomplete(ReportError):
    exit_code = EXIT_INCOMPLETE


class ReportExists(ReportError):
    exit_code = EXIT_EXISTS


class NotebookFailed(ReportError):
    exit_code = EXIT_NOTEBOOK_FAILED


class ReportMailFailed(ReportError):
    exit_code = EXIT_MAIL_FAILED

    def __init__(self, message: str, index_path: Path):
        super().__init__(message)
        self.index_path = index_path


# --------------------------------------------------------------------------------------------------
# Months and paths

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> str:
    if not _MONTH.match(text or ""):
        raise ReportUsageError(f"--month {text!r}: expected YYYY-MM, e.g. 2026-10")
    return text


def last_complete_month(now: datetime | None = None) -> str:
    """The month before the current UTC month (on 1 Nov 2026 at 06:00 UTC: 2026-10)."""
    now = now or datetime.now(UTC)
    first = datetime(now.year, now.month, 1)
    prev = first - timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


def month_bounds(month: str, timezone: str | None = "UTC") -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, as stored (naive UTC), the month being cut
    in the reporting time zone ``timezone`` (Europe/Paris starts November at 23:00 UTC)."""
    from dlvstats.metrics.common import utc_instant

    year, mon = (int(x) for x in parse_month(month).split("-"))
    start, end = datetime(year, mon, 1), datetime(year + (mon == 12), mon % 12 + 1, 1)
    return utc_instant(start, timezone), utc_instant(end, timezone)


def previous_month(month: str) -> str:
    start, _ = month_bounds(month)
    prev = start - timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


def month_label(month: str, loc: Locale | None = None) -> str:
    """'October 2026' (or 'octobre 2026' in French)."""
    start, _ = month_bounds(month)
    return (loc or ENGLISH).month_long(start)


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


def default_notebooks_dir() -> Path:
    """The notebooks shipped in the package (in a checkout, the same files as ``notebooks/``)."""
    if any(PACKAGED_NOTEBOOKS_DIR.glob("*.ipynb")):
        return PACKAGED_NOTEBOOKS_DIR
    checkout = project_root() / "notebooks"
    if any(checkout.glob("*.ipynb")):
        return checkout
    return PACKAGED_NOTEBOOKS_DIR


def find_notebooks(directory: Path) -> list[Path]:
    """Every ``*.ipynb`` of the directory (not hidden, not ``_private``), analyses first, ``00_*`` last."""
    found = [p for p in Path(directory).glob("*.ipynb") if not p.name.startswith((".", "_"))]
    return sorted(found, key=lambda p: (p.name.startswith("00"), p.name))


# --------------------------------------------------------------------------------------------------
# Notebook parameters


def read_notebook(path: Path) -> dict:
    """A notebook as plain JSON. (nbformat would do, but importing it costs seconds here: its schema
    validator pulls in a grammar compiled at import time; the main process needs only the JSON.)"""
    with open(path, encoding="utf-8") as handle:
        nb = json.load(handle)
    if nb.get("nbformat") != 4:
        raise ReportError(f"{path}: notebook format {nb.get('nbformat')} is not supported (version 4 is)")
    return nb


def write_notebook(nb: dict, path: Path) -> None:
    """Write a notebook the way nbformat does (one-space indent, UTF-8, trailing newline)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(nb, handle, indent=1, ensure_ascii=False, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def _joined(value) -> str:
    """Notebook text fields are a string or a list of lines."""
    return "".join(value) if isinstance(value, list) else str(value or "")


def declared_parameters(path: Path) -> list[str]:
    """Names assigned in the notebook's ``parameters`` cell.

    The cell is parsed with ``ast`` (papermill's own line parser gives up on some valid lines, e.g.
    a comment holding an ``=``); ``papermill.inspect_notebook`` answers when the cell is not plain
    Python (magics).
    """
    nb = read_notebook(path)
    names: list[str] = []
    parsed = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        try:
            tree = ast.parse(_joined(cell.get("source")))
        except SyntaxError:
            continue
        parsed = True
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in names:
                    names.append(target.id)
    if parsed:
        return names
    try:
        import papermill

        for name in papermill.inspect_notebook(str(path)):
            if name not in names:
                names.append(name)
    except Exception as exc:  # noqa: BLE001 - the ast answer stands on its own
        log.debug("papermill could not inspect %s: %s", path, exc)
    return names


def notebook_parameters(declared: Sequence[str], values: dict) -> dict:
    """Only the parameters the notebook declares (papermill would inject the others as new names)."""
    return {k: v for k, v in values.items() if k in declared}


# --------------------------------------------------------------------------------------------------
# Running notebooks


@dataclass
class NotebookRun:
    name: str
    source: str
    output: str
    parameters: dict
    ok: bool = False
    skipped: str = ""
    seconds: float = 0.0
    error: str = ""


def _worker_init(env: dict[str, str], stderr_path: str | None = None) -> None:
    os.environ.update(env)
    logging.getLogger("papermill").setLevel(logging.ERROR)
    if stderr_path:
        # The kernels inherit this worker's stderr: their start-up chatter goes to the run's log file,
        # not into cron's mail; what matters (a failure) comes back in the outcome.
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)


def execute_notebook(source: str, output: str, parameters: dict, cwd: str, timeout: int) -> dict:
    """Run one notebook with papermill (in a worker process); never raises, returns the outcome."""
    import papermill

    started = time.monotonic()
    try:
        papermill.execute_notebook(
            source, output, parameters=parameters, kernel_name=KERNEL_NAME, progress_bar=False,
            cwd=cwd, execution_timeout=timeout, log_output=False,
        )
    except papermill.PapermillExecutionError as exc:
        return {"ok": False, "seconds": time.monotonic() - started,
                "error": f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"}
    except Exception as exc:  # noqa: BLE001 - no kernel, dead kernel, timeout: all stop the report
        text = f"{type(exc).__name__}: {exc}"
        if "No such kernel" in text:
            text += (f" (install the kernel: {sys.executable} -m ipykernel install "
                     f"--sys-prefix --name {KERNEL_NAME})")
        return {"ok": False, "seconds": time.monotonic() - started, "error": text}
    return {"ok": True, "seconds": time.monotonic() - started, "error": ""}


def run_notebooks(runs: list[NotebookRun], jobs: int, env: dict[str, str],
                  while_running: Callable[[], object] | None = None,
                  stderr_path: Path | None = None) -> object:
    """Run the notebooks ``jobs`` at a time in worker processes; run ``while_running`` meanwhile, in a
    thread of this process (DuckDB releases the GIL while it computes).

    The first failure cancels the notebooks not started yet. Returns what ``while_running`` returned;
    its exception is re-raised once the notebooks are done, so no kernel is left behind.
    """
    import threading

    outcome_of_side: dict = {}

    def side() -> None:
        try:
            outcome_of_side["result"] = while_running()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            outcome_of_side["error"] = exc

    thread = threading.Thread(target=side, name="report-summary", daemon=True) if while_running else None
    if thread is not None:
        thread.start()
    todo = [r for r in runs if not r.skipped]
    try:
        if todo:
            _run_pool(todo, jobs, env, stderr_path)
    finally:
        if thread is not None:
            thread.join()
    if "error" in outcome_of_side:
        raise outcome_of_side["error"]
    return outcome_of_side.get("result")


def _run_pool(todo: list[NotebookRun], jobs: int, env: dict[str, str], stderr_path: Path | None) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # Not a plain fork of this process, which holds DuckDB threads: a fork server started fresh, that
    # imports papermill once (seconds: nbformat's schema validator) and forks the workers from there.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["papermill", "dlvstats.report"])
    pool = ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo))), mp_context=ctx, initializer=_worker_init,
                      initargs=(env, str(stderr_path) if stderr_path else None))
    pending = {}
    try:
        for run in todo:
            log.info("running notebook %s", run.name)
            future = pool.submit(execute_notebook, run.source, run.output, run.parameters,
                                 str(Path(run.source).parent), CELL_TIMEOUT_SECONDS)
            pending[future] = run
        failed = False
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                run = pending.pop(future)
                if future.cancelled():
                    run.skipped = "not run: an earlier notebook failed"
                    continue
                outcome = future.result()
                run.ok, run.seconds, run.error = outcome["ok"], outcome["seconds"], outcome["error"]
                if run.ok:
                    log.info("notebook %s done in %.1f s", run.name, run.seconds)
                    continue
                log.error("notebook %s failed after %.1f s: %s", run.name, run.seconds, run.error)
                if not failed:
                    failed = True
                    for other in pending:
                        other.cancel()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------------
# Privacy: no e-mail address leaves in a report (the scrubber: dlvstats.scrub)

def scrub_notebook_outputs(path: Path, scrubber: AddressScrubber) -> None:
    """Remove addresses from an executed notebook's outputs (the record stays, minus personal data)."""
    nb = read_notebook(path)
    before = scrubber.count
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = scrubber.deep(output["text"])
            if "data" in output:
                output["data"] = scrubber.deep(output["data"])
            if "evalue" in output:
                output["evalue"] = scrubber.text(output["evalue"])
            if "traceback" in output:
                output["traceback"] = scrubber.deep(output["traceback"])
    if scrubber.count != before:
        log.warning("%s: %d e-mail address(es) in the outputs were replaced by a pseudonym",
                    path.name, scrubber.count - before)
        nb.setdefault("metadata", {}).setdefault("dlvstats", {})["addresses_hidden"] = scrubber.count - before
        write_notebook(nb, path)


# --------------------------------------------------------------------------------------------------
# HTML: sanitising notebook outputs and escaping chart text

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "*": ["class", "title"], "a": ["href", "title"], "td": ["colspan", "rowspan", "align"],
    "th": ["colspan", "rowspan", "align"], "table": ["class"], "col": ["span"],
}
_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def sanitize_html(fragment: str) -> str:
    """Keep a small allowlist of tags and attributes; everything else is escaped, so it shows as text.

    ``<style>``/``<script>`` blocks (pandas' scoped table styles, or anything a notebook printed) are
    dropped first, content included. Links keep only http(s) and mailto targets.
    """
    import bleach

    cleaner = bleach.Cleaner(tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                             protocols={"http", "https", "mailto"}, strip=False, strip_comments=True)
    return cleaner.clean(_BLOCKS.sub("", fragment))


_TABLE = re.compile(r'(<table[^>]*class="dataframe"[^>]*>)(.*?)(</table>)', re.DOTALL)
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.DOTALL)
_CELL = re.compile(r"<(th|td)([^>]*)>(.*?)</\1>", re.DOTALL)
_SECTION = re.compile(r"<(thead|tbody)>(.*?)</\1>", re.DOTALL)
_MISSING = {"NaN", "nan", "None", "<NA>", "&lt;NA&gt;", "NaT"}


def _is_rate_column(name: str) -> bool:
    # The project's naming rule (and export.to_table's): rates and shares are fractions; an
    # interval bound is shown like its quantity (half_life_low is in years, not a fraction).
    base = name.removesuffix("_low").removesuffix("_high")
    return base.endswith(("_rate", "_share")) or "_rate_" in base or "share" in base


def _format_cell(text: str, rate: bool, plain: bool = False, loc: Locale | None = None) -> str:
    stripped = text.strip()
    if stripped in _MISSING:
        return "–"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+", stripped):
        return stripped.split(".")[0]  # a timestamp to the second is enough for a reader
    if not re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", stripped):
        return text
    value = float(stripped)
    loc = loc or ENGLISH
    if rate:
        return loc.percent(value, 2 if abs(value * 100) >= 1 or value == 0 else 3)
    if re.fullmatch(r"-?\d+\.0", stripped) or (re.fullmatch(r"-?\d{5,}", stripped) and not plain):
        return f"{int(value)}" if plain else loc.integer(value)
    if "e" in stripped.lower() or ("." in stripped and len(stripped.split(".")[1]) > 4):
        return loc.decimal(value, 2) if abs(value) >= 1 else loc.significant(value, 4)
    if "." in stripped and loc.code != "en":
        return loc.decimal(value, len(stripped.split(".")[1]))
    if re.fullmatch(r"-?\d{4}", stripped) and loc.code != "en" and not plain:
        return loc.integer(value)
    return text


def polish_dataframe_html(fragment: str, loc: Locale | None = None) -> str:
    """Make pandas tables readable on the page: drop a default 0..n-1 index, show rate and share
    columns as percentages (the naming rule export.to_table applies in the terminal), counts that
    pandas printed as floats as integers with separators, and missing values as a dash.
    Tables of another shape (several header rows, a Styler) are left as they are."""

    def one(match: re.Match) -> str:
        opening, body, closing = match.groups()
        sections = dict(_SECTION.findall(body))
        if set(sections) != {"thead", "tbody"}:
            return match.group(0)
        head_rows = _ROW.findall(sections["thead"])
        if len(head_rows) != 1:
            return match.group(0)
        header = [c[2] for c in _CELL.findall(head_rows[0])]
        rows = [_CELL.findall(r) for r in _ROW.findall(sections["tbody"])]
        if not rows:  # an empty table says so, rather than showing a bare header
            shown = header[1:] if header and not header[0].strip() else header
            return (opening + "<thead><tr>" + "".join(f"<th>{_header(h, loc)}</th>" for h in shown)
                    + "</tr></thead><tbody>"
                    f'<tr><td class="empty" colspan="{max(len(shown), 1)}">{(loc or ENGLISH).gettext("None.")}</td></tr>'
                    "</tbody>" + closing)
        if any(len(r) != len(header) for r in rows):
            return match.group(0)
        drop_index = header[0].strip() == "" and all(
            r[0][0] == "th" and r[0][2].strip() == str(i) for i, r in enumerate(rows))
        start = 1 if drop_index else 0
        import html as html_lib

        names = [html_lib.unescape(h.strip()) for h in header]
        out = [opening, "<thead><tr>"]
        out += [f"<th>{_header(h, loc)}</th>" for h in header[start:]]
        out.append("</tr></thead><tbody>")
        for row in rows:
            out.append("<tr>")
            for (tag, attrs, text), name in list(zip(row, names))[start:]:
                plain = "year" in name or name.endswith("_id")  # 2026 is not 2,026
                value = _format_cell(text, _is_rate_column(name), plain, loc) if tag == "td" else text
                out.append(f"<{tag}{attrs}>{value}</{tag}>")
            out.append("</tr>")
        out.append("</tbody>" + closing)
        return "".join(out)

    return _TABLE.sub(one, fragment)


def _header(cell: str, loc: Locale | None) -> str:
    """A column's label from the column dictionary (data/columns.csv), in the reader's language;
    a name the dictionary lacks stays as it is."""
    import html as html_lib

    label = column_label(html_lib.unescape(cell.strip()), loc or ENGLISH)
    return html_lib.escape(label, quote=False) if label is not None else cell


def markdown_to_html(source: str) -> str:
    """Notebook markdown to HTML; raw HTML in it is escaped (shows as text), then sanitised."""
    import mistune

    render = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return sanitize_html(render(source))


# Plotly draws text through its own small markup (<br>, <b>, <sup>, ...); any other tag is silently
# dropped rather than shown. Escaping every '<' that does not start one of the tags our figure
# builders use (and '&') makes hostile names show as the text they are, while plotly decodes the
# entities back for display.
_PLOTLY_TAG = re.compile(r"<(/?)(br|b|i|em|sup|sub|s|u|extra)\s*/?>", re.IGNORECASE)


def _escape_plotly_text(text: str) -> str:
    if "<" not in text and "&" not in text and ">" not in text:
        return text
    out, pos = [], 0
    for match in _PLOTLY_TAG.finditer(text):
        out.append(_entity_escape(text[pos:match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_entity_escape(text[pos:]))
    return "".join(out)


def _entity_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_figure(value, key: str = ""):
    """Escape every string of a plotly figure spec for display (not the base64 arrays, ids or meta)."""
    if isinstance(value, str):
        return value if key in ("bdata", "dtype", "uid", "meta") else _escape_plotly_text(value)
    if isinstance(value, list):
        return [escape_figure(v, key) for v in value]
    if isinstance(value, dict):
        return {k: (v if k == "meta" else escape_figure(v, k)) for k, v in value.items()}
    return value


def json_for_script(value) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no '<', '>', '&' or U+2028/9
    characters survive literally, so a ``</script>`` in the data cannot close the element."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, default=_json_default)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _finite(value):
    """Plotly JSON may carry NaN; the browser's JSON.parse cannot."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------------
# Assembling the page from executed notebooks

_HIDE_CELL = {"parameters", "injected-parameters", "remove-cell", "remove_cell", "hide", "hide-cell"}
_HIDE_OUTPUT = {"remove-output", "remove_output", "hide-output", "hide_output"}
_HEADING = re.compile(r"<(/?)h([1-5])\b", re.IGNORECASE)
PLOTLY_MIME = "application/vnd.plotly.v1+json"


@dataclass
class Section:
    anchor: str
    title: str
    notebook: str
    blocks: list[dict] = field(default_factory=list)  # {"html": str} or {"figure": id}
    seconds: float = 0.0


@dataclass
class Figure:
    id: str
    spec_json: str


def _demote(html_text: str) -> str:
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", html_text)


def _output_html(output: dict, scrubber: AddressScrubber, loc: Locale | None = None) -> str | None:
    """HTML for a non-figure output, or None when it shows nothing worth a reader's time."""
    import html as html_lib

    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") != "stdout":
            return None  # warnings on stderr stay in the executed notebook, not on the page
        text = scrubber.text("".join(output.get("text", "")) if isinstance(output.get("text"), list)
                             else str(output.get("text", ""))).strip()
        return f'<div class="stdout">{html_lib.escape(text)}</div>' if text else None
    if kind == "error":
        return f'<pre class="error">{html_lib.escape(scrubber.text(output.get("ename", "") + ": " + output.get("evalue", "")))}</pre>'
    data = output.get("data", {})

    def text_of(mime):
        value = data.get(mime, "")
        return scrubber.text("".join(value) if isinstance(value, list) else str(value))

    if "text/html" in data:
        return f'<div class="output">{sanitize_html(polish_dataframe_html(text_of("text/html"), loc))}</div>'
    if "text/markdown" in data:
        return f'<div class="output">{markdown_to_html(text_of("text/markdown"))}</div>'
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            payload = re.sub(r"\s+", "", text_of(mime))
            if re.fullmatch(r"[A-Za-z0-9+/=]*", payload):
                return f'<div class="output"><img alt="" src="data:{mime};base64,{payload}"></div>'
    if "image/svg+xml" in data:  # as an <img>, an SVG cannot run script
        payload = base64.b64encode(text_of("image/svg+xml").encode()).decode()
        return f'<div class="output"><img alt="" src="data:image/svg+xml;base64,{payload}"></div>'
    if "text/plain" in data:
        text = text_of("text/plain").strip()
        if not text or re.fullmatch(r"<[\w.]+ (object|at) .*>", text):
            return None
        return f'<pre class="output">{html_lib.escape(text)}</pre>'
    return None


_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*$", re.MULTILINE)


def _translate_headings(source: str, loc: Locale) -> str:
    """The notebook's markdown headings in the reader's language (the catalogue holds each heading)."""
    return _MD_HEADING.sub(lambda m: f"{m.group(1)} {loc.gettext(m.group(2))}", source)


_MD_LIST_ITEM = re.compile(r"^([ \t]*(?:[-*+]|\d+[.)])[ \t]+)(\S.*)$")


def _markdown_units(source: str) -> Iterator[tuple[str, str, list[str]]]:
    """A markdown cell cut into the units the catalogue translates: ``("heading", "## ", [text])``,
    ``("item", "- ", lines)`` (one list item with its continuation lines), ``("paragraph", "", lines)``,
    and ``("raw", "", [line])`` for what is never translated (blank lines, fenced code)."""
    block: list[str] = []
    prefix, kind = "", "paragraph"
    fenced = False

    def flush():
        nonlocal block, prefix, kind
        if block:
            yield kind, prefix, block
        block, prefix, kind = [], "", "paragraph"

    for line in source.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            yield from flush()
            fenced = not fenced
            yield "raw", "", [line]
            continue
        if fenced or not line.strip():
            yield from flush()
            yield "raw", "", [line]
            continue
        heading = _MD_HEADING.fullmatch(line)
        if heading:
            yield from flush()
            yield "heading", heading.group(1) + " ", [heading.group(2)]
            continue
        item = _MD_LIST_ITEM.match(line)
        if item:
            yield from flush()
            kind, prefix, block = "item", item.group(1), [item.group(2)]
            continue
        block.append(line)
    yield from flush()


def _message_of(lines: list[str]) -> str:
    """A unit's catalogue entry: its lines joined by single spaces (re-wrapping a paragraph keeps it)."""
    return " ".join(" ".join(lines).split())


def markdown_messages(source: str) -> list[str]:
    """The catalogue entries of a notebook markdown cell: each heading, paragraph and list item."""
    return [_message_of(lines) for kind, _prefix, lines in _markdown_units(source) if kind != "raw"]


def _without_templates(spec: dict) -> dict:
    """A figure without the catalogue templates of its data-built title and reading (used by
    ``translate_figure``; not for the page)."""
    meta = (spec.get("layout") or {}).get("meta")
    if not (isinstance(meta, dict) and "i18n" in meta):
        return spec
    return {**spec, "layout": {**spec["layout"], "meta": {k: v for k, v in meta.items() if k != "i18n"}}}


def _notebook_title(source: str) -> tuple[str, str] | None:
    """A markdown cell's leading ``# 02 · Gift campaigns`` as ("Gift campaigns", the rest of the cell)."""
    match = re.match(r"\s*#\s+(.+)", source)
    if not match:
        return None
    return re.sub(r"^\d+\s*[·.:\-–—]\s*", "", match.group(1).strip()), source[match.end():]


def notebook_messages(path: Path) -> list[str]:
    """Every string a notebook's markdown puts on the page, as the catalogue must hold it: the section
    title, then each heading, paragraph and list item (the report translates these units)."""
    messages: list[str] = []
    title_done = False
    for cell in read_notebook(path).get("cells", []):
        if cell.get("cell_type") != "markdown" or set(cell.get("metadata", {}).get("tags", [])) & _HIDE_CELL:
            continue
        source = _joined(cell.get("source"))
        titled = None if title_done else _notebook_title(source)
        if titled:
            messages.append(titled[0])
            source = titled[1]
        title_done = title_done or bool(titled) or bool(source.strip())
        messages += markdown_messages(source)
    return messages


def _translate_markdown(source: str, loc: Locale) -> str:
    """A notebook markdown cell in the reader's language, unit by unit (heading, paragraph, list item):
    a unit the catalogue lacks stays English (and is listed in ``loc.untranslated``). English: the
    headings pass as before and nothing else changes."""
    if loc.code == ENGLISH.code:
        return _translate_headings(source, loc)
    out: list[str] = []
    for kind, prefix, lines in _markdown_units(source):
        if kind == "raw":
            out.extend(lines)
            continue
        message = _message_of(lines)
        if loc.has(message):
            out.append(prefix + loc.gettext(message))
        else:
            loc.gettext(message)  # recorded as untranslated
            out.append(prefix + "\n".join(lines) if kind != "heading" else prefix + lines[0])
    return "\n".join(out)


def notebook_section(path: Path, index: int, scrubber: AddressScrubber,
                     figures: list[Figure], seconds: float = 0.0, loc: Locale | None = None) -> Section:
    """Turn an executed notebook into a section: markdown, tables, text and charts; never code."""
    loc = loc or ENGLISH
    nb = read_notebook(path)
    title = re.sub(r"^\d+_", "", path.stem).replace("_", " ").capitalize()
    blocks: list[dict] = []
    first_heading_done = False
    for cell in nb.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _HIDE_CELL:
            continue
        if cell.get("cell_type") == "markdown":
            source = _joined(cell.get("source"))
            titled = None if first_heading_done else _notebook_title(source)
            if titled:
                # The notebook's own title names the section: "# 02 · Gift campaigns" -> "Gift campaigns"
                title, source = titled
            first_heading_done = first_heading_done or bool(titled) or bool(source.strip())
            if source.strip():
                blocks.append({"html": _demote(markdown_to_html(scrubber.text(_translate_markdown(source, loc))))})
            continue
        if cell.get("cell_type") != "code" or tags & _HIDE_OUTPUT:
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_MIME in data:
                spec = _without_templates(translate_figure(dict(data[PLOTLY_MIME]), loc))
                spec = escape_figure(_finite(scrubber.deep(spec)))
                figure = Figure(id=f"chart-{len(figures) + 1}", spec_json=json_for_script(
                    {"data": spec.get("data", []), "layout": spec.get("layout", {})}))
                figures.append(figure)
                blocks.append({"figure": figure.id})
                continue
            fragment = _output_html(output, scrubber, loc)
            if fragment:
                blocks.append({"html": _demote(fragment)})
    anchor = f"s{index}-" + re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return Section(anchor=anchor, title=loc.gettext(title), notebook=path.name, blocks=blocks, seconds=seconds)


def _jinja_env(loc: Locale | None = None):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # every {{ value }} is escaped; only sanitised fragments are marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    loc = loc or ENGLISH
    env.install_gettext_callables(loc.gettext, loc.ngettext, newstyle=True)
    return env


def render_page(context: dict) -> str:
    import markupsafe
    import plotly.offline

    env = _jinja_env(context.get("loc"))
    # The sanitised fragments and the escaped JSON are the only markup marked safe.
    sections = []
    for section in context["sections"]:
        blocks = [
            {"figure": b["figure"]} if "figure" in b else {"html": markupsafe.Markup(b["html"])}
            for b in section.blocks
        ]
        sections.append({**asdict(section), "blocks": blocks})
    figures = [{"id": f.id, "spec_json": markupsafe.Markup(f.spec_json)} for f in context["figures"]]
    plotly_js = markupsafe.Markup(plotly.offline.get_plotlyjs()) if figures else ""
    return env.get_template("report.html.j2").render(
        **{**context, "sections": sections, "figures": figures, "plotly_js": plotly_js})


# --------------------------------------------------------------------------------------------------
# Summary: headline numbers, alerts and notes, from the metric functions


@dataclass
class Headline:
    label: str
    value: str
    previous: str = ""
    change: str = ""
    tone: str = "neutral"  # good | bad | neutral (for the change)
    note: str = ""
    interval: str = ""  # the rate's 95 % interval, formatted ("" for counts)
    year_before: str = ""  # the same month a year earlier, when the data reach back that far


@dataclass
class Alert:
    level: str  # critical | warning | info
    text: str


@dataclass
class Summary:
    headlines: list[Headline] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict = field(default_factory=dict)  # CSV name -> DataFrame
    trend: list = field(default_factory=list)  # the page's 12-month trend: one dict of formatted cells per month
    conclusions: list = field(default_factory=list)  # (analysis, its conclusion in a sentence): the e-mail's


def _pct(value, digits: int = 2, loc: Locale | None = None) -> str:
    return (loc or ENGLISH).percent(value, digits)


def _int(value, loc: Locale | None = None) -> str:
    return (loc or ENGLISH).integer(value)


def _num(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _change(kind: str, now, before, higher_is: str, digits: int = 2,
            loc: Locale | None = None) -> tuple[str, str]:
    """('+3.1%' or '+0.04 pp', tone) — percentage points for rates, relative change for counts."""
    loc = loc or ENGLISH
    now, before = _num(now), _num(before)
    if now is None or before is None:
        return "", "neutral"
    if kind == "rate":
        delta = (now - before) * 100
        moved = abs(delta) >= 0.5 * 10 ** -digits
        text = loc.points(delta, digits) if moved else "±0 " + loc.gettext("pp")
    else:
        if before == 0:
            return (loc.gettext("new") if now else "±0"), "neutral"
        delta = (now - before) / before * 100
        sign = "+" if delta >= 0 else "-"
        text = sign + loc.percent(abs(delta) / 100, 1)
        moved = abs(delta) >= 0.05
    if not moved or higher_is == "neutral":
        return text, "neutral"
    up = delta > 0
    return text, ("good" if up == (higher_is == "good") else "bad")


class MetricRun:
    """The metric tables of one report run, each computed once: the headline numbers, the alerts and
    the CSV files share them. Every figure comes from a registered metric function (the same ones the
    notebooks call), on the run's database and account filter."""

    def __init__(self, db_path: Path, account_id: str | None, timezone: str | None = "UTC"):
        self.db_path = db_path
        self.account_id = account_id
        self.timezone = timezone
        self._frames: dict = {}

    def table(self, func: Callable, month: str, **options):
        key = (func.__module__, func.__qualname__, month,
               tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items())))
        if key not in self._frames:
            start, end = month_bounds(month, self.timezone)
            if "timezone" in inspect.signature(func).parameters and "timezone" not in options:
                options = {**options, "timezone": self.timezone or "UTC"}  # days cut where the month is
            began = time.monotonic()
            self._frames[key] = func(self.db_path, start, end, self.account_id, **options)
            log.debug("%s %s %s: %.2f s", func.__qualname__, month, options, time.monotonic() - began)
        return self._frames[key]

    def registered(self, name: str):
        """A metric function from the registry, or None (logged) when this build lacks it."""
        from dlvstats import metrics

        try:
            return metrics.get(name)
        except (ImportError, AttributeError, KeyError) as exc:
            log.warning("metric %s is not available (%s); the report goes on without it", name, exc)
            return None

    def health(self):
        try:
            from dlvstats.metrics import sender_health
        except ImportError as exc:
            log.warning("sender-health is not available (%s)", exc)
            return None
        return sender_health

    def health_month(self, month: str):
        """Sender health pooled over the month: 'all', per provider and (ESP's report) per account."""
        health = self.health()
        if health is None:
            return None
        by = ["all", "provider"] if self.account_id else ["all", "account", "provider"]
        return self.table(health.sender_health, month, by=by, grain="period")


def _totals(run: MetricRun, month: str) -> dict:
    """The month's headline figures, each from the metric that defines it."""
    totals: dict = {}
    frame = run.health_month(month)
    if frame is not None:
        rows = frame[frame["dimension"] == "all"]
        if len(rows):
            row = rows.iloc[0]
            for column in ("sends", "delivered", "complaints", "complaint_rate", "complaint_rate_fbl",
                           "delivered_fbl", "hard_bounces", "hard_bounce_rate", "blocklist_listings"):
                if column in frame.columns:
                    totals[column] = _num(row[column])
                for bound in ("low", "high"):
                    if f"{column}_{bound}" in frame.columns:
                        totals[f"{column}_{bound}"] = _num(row[f"{column}_{bound}"])
            if totals.get("sends"):
                from dlvstats.metrics.common import wilson

                # a message is delivered or not whoever it goes to: a plain Wilson interval
                rate, low, high = wilson(totals.get("delivered") or 0, totals["sends"])
                totals["delivery_rate"] = float(rate)
                totals["delivery_rate_low"], totals["delivery_rate_high"] = float(low), float(high)
    from dlvstats.metrics.headlines import headline_rates

    pooled_rates = run.table(headline_rates, month)
    if len(pooled_rates):
        row = pooled_rates.iloc[0]
        for rate in ("open_rate", "human_open_rate", "click_rate", "unsubscribe_rate"):
            for column in (rate, f"{rate}_low", f"{rate}_high"):
                totals[column] = _num(row[column])
    engagement = run.registered("engagement-by-age")
    if engagement is not None:
        frame = run.table(engagement, month)
        # The age buckets partition the month's messages: pooled rates are sums of the metric's own
        # counts over sums of its denominators, never averages of rates.
        pooled = {
            "human_open_rate": ("human_openers", "delivered"),
            "click_rate": ("human_clickers", "delivered"),
            "unsubscribe_rate": ("unsubscribes", "delivered"),
            "est_read_rate": ("est_readers", "measurable_delivered"),
        }
        for rate, (num, den) in pooled.items():
            if rate not in totals and num in frame.columns and den in frame.columns:
                total = _num(frame[den].sum())
                if total:
                    totals[rate] = _num(frame[num].sum()) / total
    return totals


#: (key, label, kind, which direction is good, decimals of a percentage, note). Complaint and
#: unsubscribe rates live around 0.1%: they get three decimals, or 0.01% and 0.02% would look alike.
HEADLINE_SPECS = [
    ("sends", "Messages sent", "count", "neutral", 0, ""),
    ("delivered", "Delivered", "count", "neutral", 0, ""),
    ("delivery_rate", "Delivery rate", "rate", "good", 2, "delivered / sent"),
    ("hard_bounce_rate", "Hard-bounce rate", "rate", "bad", 2, "per message sent"),
    ("complaint_rate_fbl", "Complaint rate (providers with a feedback loop)", "rate", "bad", 3,
     "the rate to hold against the 0.1% and 0.3% lines; Gmail's own rate is only in Postmaster Tools"),
    ("complaint_rate", "Complaint rate (all delivered)", "rate", "bad", 3, ""),
    ("human_open_rate", "Human open rate", "rate", "good", 2, "human opens / delivered messages; machine opens (Apple MPP, scanners) excluded"),
    ("open_rate", "Open rate as ESPs count it", "rate", "neutral", 2,
     "every open, machine opens included: the figure an ESP's dashboard shows, to reconcile with it"),
    ("est_read_rate", "Estimated read rate", "rate", "good", 2,
     ("readers / delivered messages without a machine open (what Apple MPP prefetches hide is left out, so "
     "not the human open rate's denominator); readers whose images were blocked included; its intervals "
     "are by provider and by age, in the analyses")),
    ("click_rate", "Click rate", "rate", "good", 2, "human clickers / delivered; unsubscribe links excluded"),
    ("unsubscribe_rate", "Unsubscribe rate", "rate", "bad", 3, "people leaving the list by themselves"),
    ("blocklist_listings", "Blocklist listings", "count", "bad", 0, "of the sending IPs and domains"),
]


def headlines(now: dict, before: dict, loc: Locale | None = None, year_before: dict | None = None) -> list[Headline]:
    """The headline rows: this month, the previous one and the change, and (``year_before``: the
    same month a year earlier, from the trend) the figure of a year before where the data reach."""
    loc = loc or ENGLISH
    year_before = year_before or {}
    rows = []
    for key, label, kind, higher_is, digits, note in HEADLINE_SPECS:
        if key not in now:
            continue

        def fmt(value, kind=kind, digits=digits):
            return loc.percent(value, digits) if kind == "rate" else loc.integer(value)

        change, tone = _change(kind, now.get(key), before.get(key), higher_is, digits, loc)
        low, high = now.get(f"{key}_low"), now.get(f"{key}_high")
        interval = (loc.gettext("95% CI {low} – {high}").format(low=fmt(low), high=fmt(high))
                    if low is not None and high is not None else "")
        rows.append(Headline(label=loc.gettext(label), value=fmt(now.get(key)),
                             previous=fmt(before.get(key)) if key in before else "",
                             change=change, tone=tone, note=loc.gettext(note), interval=interval,
                             year_before=fmt(year_before[key]) if year_before.get(key) is not None else ""))
    return rows


#: The headlines the trend carries (the per-message rates and counts of each month's messages).
TREND_KEYS = ("sends", "delivered", "delivery_rate", "hard_bounce_rate", "complaint_rate", "human_open_rate",
              "open_rate", "click_rate", "unsubscribe_rate")


def month_shift(month: str, months: int) -> str:
    """'2026-10' shifted by ``months`` (negative: earlier)."""
    year, mon = (int(x) for x in month.split("-"))
    index = year * 12 + mon - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def headline_trend(run: MetricRun, month: str, months: int = 12):
    """The headline rates of ``month`` and the ``months`` before it, one row per month of the
    reporting time zone (metrics.headlines.headline_trend): the page's trend and its year-before
    column. Months without messages have no row."""
    from dlvstats.metrics.headlines import headline_trend as trend

    start, _ = month_bounds(month_shift(month, -months), run.timezone)
    _, end = month_bounds(month, run.timezone)
    began = time.monotonic()
    frame = trend(run.db_path, start, end, run.account_id, timezone=run.timezone or "UTC")
    log.debug("headline_trend %s: %.2f s", month, time.monotonic() - began)
    return frame


def year_before_totals(trend, month: str) -> dict:
    """The trend's row for the same month a year earlier, as headline totals (empty when the data do
    not reach back that far)."""
    if trend is None or not len(trend):
        return {}
    rows = trend[trend["month"] == month_shift(month, -12)]
    if not len(rows):
        return {}
    row = rows.iloc[0]
    return {key: _num(row[key]) for key in TREND_KEYS if key in trend.columns}


def _top_culprit(run: MetricRun, month: str, listing, loc: Locale | None = None) -> str:
    """'; likeliest culprit ACCOUNT (N complaints of M delivered in the 14 days before)' or ''."""
    if run.account_id:
        return ""  # an account's pack names no other client
    func = run.registered("blocklist-culprits")
    if func is None:
        return ""
    culprits = run.table(func, month)
    top = culprits[(culprits["target"] == listing.target) & (culprits["blocklist"] == listing.blocklist)
                   & (culprits["listed_at"] == listing.listed_at) & (culprits["rank"] == 1)]
    if top.empty:
        return ""
    r = top.iloc[0]
    loc = loc or ENGLISH
    return loc.gettext("; likeliest culprit {account} ({complaints} complaints of {delivered} delivered, "
                       "{bounces} hard bounces, {share} of the sends in the 14 days before)").format(
        account=r.account_id, complaints=loc.integer(r.complaints), delivered=loc.integer(r.delivered),
        bounces=loc.integer(r.hard_bounces), share=loc.percent(r.share_of_target_sends, 0))


def compute_alerts(run: MetricRun, month: str, loc: Locale | None = None) -> list[Alert]:
    """Complaint rate over 0.1%/0.3% per account and provider, blocklist listings, hard-bounce spikes."""
    from dlvstats.config import COMPLAINT_RATE_CRITICAL, COMPLAINT_RATE_TARGET

    loc = loc or ENGLISH
    _ = loc.gettext

    def _pct(value, digits: int = 2) -> str:
        return loc.percent(value, digits)

    def _int(value) -> str:
        return loc.integer(value)

    health = run.health()
    alerts: list[Alert] = []
    if health is None:
        return alerts
    account_id = run.account_id
    frame = run.health_month(month)
    prev = run.health_month(previous_month(month))
    prev_bounce = {(r.dimension, r.dimension_value): _num(r.hard_bounce_rate) for r in prev.itertuples()}

    def who(dimension: str, value: str) -> str:
        if dimension == "all":
            return _("account {name}").format(name=account_id) if account_id else _("all traffic")
        kind = _("mailbox provider") if dimension == "provider" else _(dimension)
        return f"{kind} {value}"

    # In an account's pack the 'all' row is that account; in the ESP's report the accounts say more.
    complaint_dims = {"account", "provider"} | ({"all"} if account_id else set())
    bounce_dims = ["all"] if account_id else ["account"]
    ordered = frame.sort_values(["dimension", "complaint_rate_fbl"], ascending=[True, False])
    for row in ordered.itertuples():
        name = who(row.dimension, row.dimension_value)
        rate = _num(row.complaint_rate_fbl)
        if row.dimension in complaint_dims and rate is not None and rate > COMPLAINT_RATE_TARGET:
            level = "critical" if rate > COMPLAINT_RATE_CRITICAL else "warning"
            line = _pct(COMPLAINT_RATE_CRITICAL if rate > COMPLAINT_RATE_CRITICAL else COMPLAINT_RATE_TARGET, 1)
            text = _("Complaint rate {rate} for {name}, over the {line} line ({complaints} complaints on "
                     "{delivered} messages delivered to providers with a feedback loop; 95% interval "
                     "{low}–{high})").format(
                rate=_pct(rate), name=name, line=line, complaints=_int(row.complaints_fbl),
                delivered=_int(row.delivered_fbl), low=_pct(_num(row.complaint_rate_fbl_low)),
                high=_pct(_num(row.complaint_rate_fbl_high)))
            if bool(getattr(row, "small_cell_fbl", False)):
                text += _("; small volume, so the rate is fragile")
            alerts.append(Alert(level, text + "."))
        bounce = _num(row.hard_bounce_rate)
        prev_rate = prev_bounce.get((row.dimension, row.dimension_value))
        if (row.dimension in bounce_dims and bounce is not None and bounce >= HARD_BOUNCE_LINE
                and (prev_rate is None or bounce >= 2 * prev_rate)):
            since = (_("up from {rate} the month before").format(rate=_pct(prev_rate)) if prev_rate is not None
                     else _("no sends the month before"))
            alerts.append(Alert("critical" if bounce >= HARD_BOUNCE_DAY_LINE else "warning",
                                _("Hard-bounce spike for {name}: {rate} of messages sent, {since} "
                                  "({bounces} hard bounces on {sends} sends).").format(
                                    name=name, rate=_pct(bounce), since=since, bounces=_int(row.hard_bounces),
                                    sends=_int(row.sends))))

    daily = run.table(health.sender_health, month, by=bounce_dims, grain="day")
    spiked = {a.text.split(":")[0] for a in alerts}
    spike_prefix = _("Hard-bounce spike for {name}: {rate} of messages sent, {since} "
                     "({bounces} hard bounces on {sends} sends).").split(":")[0]
    for row in daily.itertuples():
        bounce = _num(row.hard_bounce_rate)
        if bounce is None or bounce < HARD_BOUNCE_DAY_LINE or (row.sends or 0) < HARD_BOUNCE_DAY_MIN_SENDS:
            continue
        name = who(row.dimension, row.dimension_value)
        if spike_prefix.format(name=name) in spiked:
            continue  # the month's alert already says it
        alerts.append(Alert("warning", _("Hard-bounce spike on {day} for {name}: {rate} of {sends} messages "
                                         "sent that day.").format(day=str(row.period_start)[:10], name=name,
                                                                  rate=_pct(bounce), sends=_int(row.sends))))

    listings = run.table(health.blocklist_events, month)
    for row in listings.itertuples():
        listed = str(row.listed_at)[:16]
        delisted = str(row.delisted_at)
        status = (_("still listed at the end of the data") if delisted in ("NaT", "None", "nan", "<NA>")
                  else _("delisted {when}").format(when=delisted[:16]))
        text = _("Blocklist: {kind} {target} listed on {blocklist} on {when} UTC ({status})").format(
            kind=_(str(row.target_kind)), target=row.target, blocklist=row.blocklist, when=listed, status=status)
        users = _num(getattr(row, "accounts_using", None))
        if not account_id and users:
            text += _("; {count} account(s) sent from it in the 30 days before").format(count=int(users))
        text += _top_culprit(run, month, row, loc)
        alerts.append(Alert("critical", text + "."))
    alerts += _blocklist_now(run, month, {(r.target, r.blocklist) for r in listings.itertuples()
                                          if str(r.delisted_at) in ("NaT", "None", "nan", "<NA>")})
    order = {"critical": 0, "warning": 1, "info": 2}
    alerts.sort(key=lambda a: order[a.level])
    return alerts


def _blocklist_now(run: MetricRun, month: str, already: set) -> list[Alert]:
    """Alerts from the latest DNS blocklist check (dated: it may be after the month), for the
    listings the month's own alerts do not already show, and a line when some lists could not say."""
    func = run.registered("blocklist-status")
    if func is None:
        return []
    status = run.table(func, month)
    out = []
    for row in status[status["status"] == "listed"].itertuples():
        if (row.target, row.blocklist) in already:
            continue
        since = "" if str(row.listed_since) in ("NaT", "None", "nan", "<NA>") else f", listed since {str(row.listed_since)[:16]} UTC"
        out.append(Alert("critical", f"Blocklist now: {row.target_kind} {row.target} is listed on {row.blocklist} "
                                     f"({row.meaning or row.return_code}) at the DNS check of "
                                     f"{str(row.checked_at)[:16]} UTC{since}."))
    unknown = status[status["status"] == "unknown"]
    if len(unknown):
        out.append(Alert("info", f"Blocklist check of {str(status['checked_at'].max())[:16]} UTC: "
                                 f"{len(unknown)} answer(s) of {unknown['blocklist'].nunique()} list(s) were unknown "
                                 "(query refused, policy code or no answer): neither listed nor clean."))
    return out


def metric_tables(run: MetricRun, month: str) -> dict:
    """The CSV files: every registered metric for the month (defaults, as `dlvstats metrics` prints
    them), plus the pooled sender health, its daily view and the blocklist listings behind the alerts."""
    from dlvstats.metrics import REGISTRY

    tables = {}
    for name in REGISTRY:
        func = run.registered(name)
        if func is not None:
            tables[name] = run.table(func, month)
    health = run.health()
    if health is not None:
        tables["sender-health-month"] = run.health_month(month)
        tables["sender-health-daily"] = run.table(health.sender_health, month,
                                                  by=["all"] if run.account_id else ["account"], grain="day")
        if "blocklist-events" not in tables:
            tables["blocklist-events"] = run.table(health.blocklist_events, month)
    if run.account_id:
        tables = {k: _without_cross_client_columns(v) for k, v in tables.items()}
    return tables


def _without_cross_client_columns(frame):
    """An account's pack holds no ranking against other clients."""
    drop = [c for c in frame.columns if c in ("risk_rank", "accounts_using") or c.endswith("_rank")]
    return frame.drop(columns=drop)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def maturity_notes(month: str, data_end: datetime | None, daily_sends=None, gift=None,
                   timezone: str | None = "UTC", loc: Locale | None = None) -> list[str]:
    """What is not settled yet: late events of the last campaigns, 90-day purchases, and the
    month-over-month comparison (the previous month has had longer to collect its late events)."""
    loc = loc or ENGLISH
    _ = loc.gettext
    start, end = month_bounds(month, timezone)
    if data_end is None:
        return [_("The database holds no sends, opens, clicks or complaints.")]
    if data_end < start:
        return [_("The data ends {end} UTC, before {month} begins: nothing of this month is loaded yet.").format(
            end=loc.moment(data_end), month=month_label(month, loc))]
    notes = []
    cutoff = min(end, data_end) - timedelta(days=IMMATURE_DAYS)
    share = None
    if daily_sends is not None and len(daily_sends):
        # One dimension's rows partition the messages (accounts in the ESP's report, 'all' in a pack).
        sends = daily_sends[daily_sends["dimension"] == daily_sends["dimension"].iloc[0]]
        total = _num(sends["sends"].sum())
        late = _num(sends.loc[sends["period_start"] >= cutoff, "sends"].sum())
        if total:
            share = late / total
    what = (_("{share} of the month's messages").format(share=loc.percent(share, 1)) if share is not None
            else _("The messages"))
    notes.append(_("Immature campaigns: {what} went out on or after {cutoff}, less than {days} days before the "
                   "data ends ({end} UTC). Their opens, clicks and complaints are still arriving, so this "
                   "month's rates will still rise a little.").format(
        what=what, cutoff=loc.day(cutoff), days=IMMATURE_DAYS, end=loc.moment(data_end)))
    if gift is not None and len(gift) and "is_immature" in gift.columns:
        late = gift[gift["is_immature"].fillna(False).astype(bool)]
        if len(late):
            names = ", ".join(f"“{n}”" for n in late.get("name", late.get("campaign_id")).astype(str).head(5))
            more = _(" and {count} more").format(count=len(late) - 5) if len(late) > 5 else ""
            notes.append(loc.ngettext(
                "{count} gift campaign ({names}{more}) has a {days}-day purchase window that runs past the "
                "data: buyer rates are provisional.",
                "{count} gift campaigns ({names}{more}) have a {days}-day purchase window that runs past the "
                "data: buyer rates are provisional.", len(late)).format(
                count=loc.integer(len(late)), names=names, more=more, days=PURCHASE_WINDOW_DAYS))
    notes.append(_("Month-over-month changes compare this month as measured now with the previous month, "
                   "which has had a month longer to collect its late opens, clicks and complaints: this "
                   "month's engagement and complaint rates are understated in comparison."))
    return notes


def data_end(db_path: Path) -> datetime | None:
    """The newest send, open, click or complaint in the database (UTC)."""
    from dlvstats import overview

    frame = overview.coverage(db_path)
    frame = frame[frame["kind"].isin(["sends", "opens", "clicks", "complaints"])]
    values = [v for v in frame["last_at"].tolist() if v is not None and str(v) not in ("NaT", "None", "nan")]
    if not values:
        return None
    import pandas as pd

    return max(pd.Timestamp(v).to_pydatetime().replace(tzinfo=None) for v in values)


def freshness(db_path: Path, month: str, timezone: str | None = "UTC") -> tuple[bool, datetime | None, str]:
    """(complete, data end, message): complete when the data reaches the month's last day."""
    _, end = month_bounds(month, timezone)
    last = data_end(db_path)
    if last is None:
        return False, None, "the database holds no sends, opens, clicks or complaints"
    if last >= end - timedelta(days=1):
        return True, last, f"data runs to {last:%Y-%m-%d %H:%M} UTC"
    return False, last, (f"the data stops at {last:%Y-%m-%d %H:%M} UTC, before the end of {month} "
                         f"({end - timedelta(days=1):%Y-%m-%d} is missing)")


def classification_drift(db_path: Path, month: str) -> tuple[list[Alert], list[str]]:
    """Drift alarms of the human/machine labels (dlvstats.drift), over all the ESP's traffic: a
    provider's machine-open share or the unlisted machines moving in ``month`` are warnings; an old
    networks snapshot is a note."""
    from dlvstats import db, drift

    con = db.connect(db_path, read_only=True)
    try:
        sentences = drift.alarms(con, month=month)
    finally:
        con.close()
    alerts = [Alert("warning", "Classification drift (all traffic): " + s) for s in sentences
              if not s.startswith("Networks snapshot")]
    notes = [s for s in sentences if s.startswith("Networks snapshot")]
    return alerts, notes


def compute_summary(db_path: Path, month: str, account_id: str | None, last: datetime | None,
                    timezone: str | None = "UTC", loc: Locale | None = None) -> Summary:
    loc = loc or ENGLISH
    run = MetricRun(db_path, account_id, timezone)
    now, before = _totals(run, month), _totals(run, previous_month(month))
    alerts = compute_alerts(run, month, loc)
    tables = metric_tables(run, month)
    trend = headline_trend(run, month)
    tables["headline-trend"] = trend
    notes = maturity_notes(month, last, tables.get("sender-health-daily"), tables.get("gift-campaigns"), timezone,
                           loc)
    drift_alerts, drift_notes = classification_drift(db_path, month)
    alerts += drift_alerts
    notes += drift_notes
    if not now.get("sends"):
        log.warning("no message was sent in %s %s", month, f"by account {account_id}" if account_id else "at all")
        notes.insert(0, (loc.gettext("No message was sent in {month} by account {account}: check the month and "
                                     "the account id.") if account_id else
                         loc.gettext("No message was sent in {month} at all: check the month and that its drop "
                                     "was loaded.")).format(month=month_label(month, loc), account=account_id))
    return Summary(headlines=headlines(now, before, loc, year_before_totals(trend, month)), alerts=alerts,
                   notes=notes, tables=tables, trend=trend_rows(trend, month, loc),
                   conclusions=analysis_conclusions(run, month, tables, now, loc))


def _age_conclusion(by_age, loc: Locale) -> str | None:
    """The decay in one sentence: the youngest and the oldest age years whose estimate is ok."""
    if by_age is None or not len(by_age) or "estimate_status" not in by_age.columns:
        return None
    ok = by_age[(by_age["estimate_status"] == "ok") & by_age["age_years"].notna()].sort_values("age_years")
    if len(ok) < 2:
        return loc.gettext("Too few messages this month for a read rate by address age that can be trusted: see "
                           "the trailing-year table in the report.")
    young, old = ok.iloc[0], ok.iloc[-1]
    return loc.gettext("Estimated read rate {young} for addresses collected {young_age}, {old} for those {old_age} "
                       "years old (the oldest age with a trustworthy estimate).").format(
        young=loc.percent(young["est_read_rate"], 1),
        young_age=loc.gettext("under a year ago") if int(young["age_years"]) == 0 else
        loc.gettext("{years} years ago").format(years=int(young["age_years"])),
        old=loc.percent(old["est_read_rate"], 1), old_age=int(old["age_years"]))


def analysis_conclusions(run: MetricRun, month: str, tables: dict, now: dict, loc: Locale | None = None) -> list:
    """Each analysis's conclusion in a sentence, for the e-mail: the same figures as the page's
    sections (each from its metric's own table and plain-words function); an analysis whose
    table is missing is left out, never given a number."""
    loc = loc or ENGLISH
    out = []
    age = _age_conclusion(tables.get("engagement-by-age"), loc)
    if age:
        out.append((loc.gettext("Engagement decay by address age"), age))
    try:
        from dlvstats.metrics import gift

        _, end = month_bounds(month, run.timezone)
        pooled = gift.matured_pooled(run.db_path, end, run.account_id)
        out.append((loc.gettext("Gift campaigns"), gift.gift_in_plain_words(pooled, locale=loc.code)))
    except ImportError as exc:  # pragma: no cover - a build without the gift analysis
        log.warning("gift conclusions not available (%s)", exc)
    hidden = tables.get("hidden-images")
    if hidden is not None and len(hidden):
        from dlvstats.metrics.hidden_images import in_plain_words

        first = in_plain_words(hidden, locale=loc.code).split(". ")[0]  # the count; the page says the rest
        out.append((loc.gettext("Hidden images: how many non-opens were readers"), first.rstrip(".") + "."))
    rate = now.get("complaint_rate_fbl")
    if rate is not None:
        line = (loc.gettext("over the 0.3% line Gmail and Yahoo enforce") if rate > 0.003 else
                loc.gettext("over the 0.1% target line") if rate > 0.001 else loc.gettext("under the 0.1% target line"))
        out.append((loc.gettext("Sender health"), loc.gettext(
            "Complaint rate {rate} on the providers with a feedback loop (95% CI {low} – {high}), {line}.").format(
            rate=loc.percent(rate, 3), low=loc.percent(now.get("complaint_rate_fbl_low"), 3),
            high=loc.percent(now.get("complaint_rate_fbl_high"), 3), line=line)))
    campaigns = tables.get("campaigns")
    if campaigns is not None:
        from dlvstats.metrics.campaigns import campaigns_in_plain_words

        out.append((loc.gettext("Campaigns: what each mailing of the period did"),
                    campaigns_in_plain_words(campaigns, locale=loc.code)))
    return out


#: The trend table's columns: (key, kind, decimals of a percentage).
TREND_COLUMNS = (("sends", "count", 0), ("delivery_rate", "rate", 2), ("hard_bounce_rate", "rate", 2),
                 ("complaint_rate", "rate", 3), ("human_open_rate", "rate", 2), ("open_rate", "rate", 2),
                 ("click_rate", "rate", 2), ("unsubscribe_rate", "rate", 3))


def trend_rows(trend, month: str, loc: Locale | None = None) -> list[dict]:
    """The trend's months, newest first, formatted for the page (a dozen rows)."""
    loc = loc or ENGLISH
    if trend is None or not len(trend):
        return []
    rows = []
    for record in trend.sort_values("month", ascending=False).to_dict("records"):
        cells = []
        for key, kind, digits in TREND_COLUMNS:
            value = _num(record.get(key))
            cells.append("–" if value is None else loc.percent(value, digits) if kind == "rate" else loc.integer(value))
        rows.append({"month": loc.month_short(month_bounds(record["month"])[0]),
                     "current": record["month"] == month, "cells": cells})
    return rows


def summary_frame(summary: Summary):
    import pandas as pd

    rows = [{"kind": "headline", "label": h.label, "value": h.value, "previous_month": h.previous,
             "change": h.change, "year_before": h.year_before, "note": h.note} for h in summary.headlines]
    rows += [{"kind": f"alert:{a.level}", "label": a.text} for a in summary.alerts]
    rows += [{"kind": "note", "label": n} for n in summary.notes]
    return pd.DataFrame(rows, columns=["kind", "label", "value", "previous_month", "change", "year_before", "note"])


# --------------------------------------------------------------------------------------------------
# The run


@dataclass
class ReportOptions:
    db_path: Path
    out_dir: Path
    month: str
    account_id: str | None = None
    notebooks_dir: Path | None = None
    ingest: list[Path] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    dry_run: bool = False
    force: bool = False
    allow_incomplete: bool = False
    memory_limit: str | None = None
    jobs: int = 2
    #: days and months are cut in this IANA zone; every page says which
    report_timezone: str = "UTC"
    #: E-mail: attach the page and the CSV tables (off by default: the page weighs megabytes).
    attach_report: bool = False
    #: E-mail: where readers find the page (linked in the message instead of attached).
    report_url: str | None = None
    #: E-mail sender; overrides DLVSTATS_MAIL_FROM.
    mail_from: str | None = None
    #: The readers' language for the page and the e-mail: en (default) or fr.
    locale: str = "en"


@dataclass
class ReportResult:
    directory: Path
    index: Path
    complete_data: bool
    notebooks: list[NotebookRun]
    summary: Summary
    eml: Path | None = None
    emailed: bool = False
    seconds: float = 0.0


@contextlib.contextmanager
def month_lock(final: Path) -> Iterator[None]:
    """An exclusive, non-blocking lock per report directory; the holder's pid is written in it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    lock_path = final.parent / f".{final.name}.lock"
    with open(lock_path, "a+") as handle:  # closing releases the lock; the file stays (removing it would race)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ReportBusy(
                f"another dlvstats report is rendering {final} ({holder}); wait for it to finish, "
                "or stop it, then run again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        yield


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


@contextlib.contextmanager
def _environment(overrides: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _publish(build: Path, final: Path) -> None:
    """Move the finished build into place; a previous report is removed only once the new one is in."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.rename(final, old)
    os.rename(build, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _recover(final: Path) -> None:
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


def _keep_failed(build: Path, final: Path) -> Path:
    failed = final.parent / f"{final.name}.failed"
    if failed.exists():
        shutil.rmtree(failed)
    os.rename(build, failed)
    return failed


def check_email_settings(options: ReportOptions):
    """SMTP settings for --email (checked before any work), or a sender for --dry-run."""
    from email.utils import parseaddr

    from dlvstats import mail

    for address in options.email:
        if "@" not in address or any(c in address for c in "\r\n <>"):
            raise ReportUsageError(f"--email: {address!r} is not an e-mail address")
    if options.mail_from is not None and (
            "@" not in parseaddr(options.mail_from)[1] or any(c in options.mail_from for c in "\r\n")):
        raise ReportUsageError(f"--mail-from: {options.mail_from!r} is not an e-mail address "
                               "(e.g. 'Reports <reports@example.com>')")
    if options.report_url is not None and not re.match(r"^https?://[^\s]+$", options.report_url):
        raise ReportUsageError(f"--report-url: {options.report_url!r} is not an http(s) address")
    if options.attach_report and options.report_url:
        raise ReportUsageError("--attach-report and --report-url: choose one (attach the page, or link it)")
    if not options.email:
        if options.dry_run:
            raise ReportUsageError("--dry-run writes the e-mail that --email would send: give --email too")
        return None
    environ = dict(os.environ)
    if options.mail_from:
        environ["DLVSTATS_MAIL_FROM"] = options.mail_from
    if options.dry_run:
        try:
            return mail.SmtpSettings.from_env(environ)
        except mail.MailConfigError:
            return None  # a dry run needs no server; From falls back to a placeholder (said in the log)
    try:
        return mail.SmtpSettings.from_env(environ)
    except mail.MailConfigError as exc:
        raise ReportUsageError(str(exc)) from None


def run_report(options: ReportOptions, *, progress: Callable[[str], None] | None = None) -> ReportResult:
    """Render (and e-mail) one month's report; raises a ``ReportError`` carrying the exit code."""
    started = time.monotonic()
    say = progress or (lambda message: log.info("%s", message))
    month = parse_month(options.month)
    db_path = Path(options.db_path).resolve()
    out_dir = Path(options.out_dir).resolve()
    notebooks_dir = Path(options.notebooks_dir).resolve() if options.notebooks_dir else default_notebooks_dir()
    settings = check_email_settings(options)
    final = report_dir(out_dir, month, options.account_id)
    env = {"PLOTLY_RENDERER": "plotly_mimetype"}
    if options.memory_limit:
        env["DLVSTATS_MEMORY_LIMIT"] = options.memory_limit

    with month_lock(final), _environment(env):
        _recover(final)
        if final.exists() and not options.force:
            manifest = read_manifest(final)
            if is_complete(final):
                raise ReportExists(
                    f"{final / 'index.html'} is already a complete report (rendered "
                    f"{manifest.get('rendered_at', '?')}); nothing was overwritten. Use --force to render it again.")
            if manifest is None and any(final.iterdir()):
                raise ReportExists(f"{final} exists and is not a dlvstats report; nothing was overwritten. "
                                   "Use --force to replace it, or choose another --out.")
            say(f"replacing the report of {month} in {final}: it was rendered from incomplete data")

        if options.ingest:
            from dlvstats.ingest import ingest_paths

            say(f"loading {len(options.ingest)} drop(s) into {db_path}")
            summary = ingest_paths(db_path, [Path(p) for p in options.ingest])
            say(f"loaded drop {summary.drop_id}")
        if not db_path.exists():
            raise ReportUsageError(f"{db_path}: no such database (load a drop with `dlvstats ingest` first)")
        from dlvstats.metrics.common import UnknownAccount, check_account

        try:
            check_account(db_path, options.account_id)
        except UnknownAccount as exc:
            raise ReportUsageError(str(exc)) from None

        complete, last, freshness_text = freshness(db_path, month, options.report_timezone)
        if not complete:
            if options.email and not options.allow_incomplete:
                raise DataIncomplete(
                    f"not e-mailing the {month} report: {freshness_text}. Load the missing days first, or "
                    "pass --allow-incomplete to send a report marked incomplete.")
            say(f"WARNING: {freshness_text}; the report is marked incomplete")

        notebooks = find_notebooks(notebooks_dir)
        if not notebooks:
            raise ReportUsageError(f"no notebooks (*.ipynb) in {notebooks_dir}")
        final.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{final.name}.build-", dir=final.parent))
        umask = os.umask(0)
        os.umask(umask)
        build.chmod(0o777 & ~umask)  # mkdtemp makes it private; the published report is not
        try:
            result = _build(options, month, db_path, notebooks, build, final, complete, last,
                            freshness_text, settings, say)
        except BaseException:
            if build.exists():
                shutil.rmtree(build, ignore_errors=True)
            raise
        _publish(build, final)
        shutil.rmtree(final.parent / f"{final.name}.failed", ignore_errors=True)  # superseded
        result.directory, result.index = final, final / "index.html"
        say(f"report written to {result.index}")

    if options.email:
        _send(options, month, result, settings, say)
    result.seconds = time.monotonic() - started
    return result


def _build(options, month, db_path, notebooks, build, final, complete, last, freshness_text, settings, say):
    loc = Locale(options.locale)
    start, end = month_bounds(month, options.report_timezone)
    values = {
        "db_path": str(db_path),
        # UTC instants with an offset: the notebooks' Period reads them as such (the month is
        # cut in the reporting time zone); in UTC they stay plain days.
        "date_from": f"{start:%Y-%m-%d}" if start.hour == 0 and start.minute == 0 else f"{start:%Y-%m-%dT%H:%M:%S}+00:00",
        "date_to": f"{end:%Y-%m-%d}" if end.hour == 0 and end.minute == 0 else f"{end:%Y-%m-%dT%H:%M:%S}+00:00",
        "account_id": options.account_id,
        "month": month,
        "report_timezone": options.report_timezone or "UTC",
    }
    if loc.code != ENGLISH.code:
        # the language of the sentences the notebooks print (reading_of, in_plain_words, ...); English
        # is the notebooks' default, so an English run injects and records the parameters it always did
        values["locale"] = loc.code
    runs: list[NotebookRun] = []
    for path in notebooks:
        declared = declared_parameters(path)
        run = NotebookRun(name=path.name, source=str(path), output=str(build / path.name),
                          parameters=notebook_parameters(declared, values))
        if "db_path" not in declared:
            run.skipped = "no `parameters` cell declaring db_path: it cannot be pointed at this database"
        elif options.account_id and "account_id" not in declared:
            run.skipped = "no account_id parameter: it would show every client's data in a client's pack"
        if run.skipped:
            log.warning("skipping %s: %s", path.name, run.skipped)
        runs.append(run)

    def side_work() -> Summary:
        return compute_summary(db_path, month, options.account_id, last, options.report_timezone, loc)

    say(f"running {sum(not r.skipped for r in runs)} notebook(s) for {month}, {options.jobs} at a time")
    # The summary and the notebooks call the same metric functions with the same arguments: each table
    # is computed once per run and shared through a private scratch directory (metrics/cache.py).
    from dlvstats.metrics.cache import CACHE_ENV

    scratch = tempfile.mkdtemp(prefix="dlvstats-metrics-")
    try:
        with _environment({CACHE_ENV: scratch}):
            summary = run_notebooks(runs, options.jobs, dict(os.environ), side_work, build / "kernels.log")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    failed = [r for r in runs if not r.skipped and not r.ok]
    if failed:
        where = _keep_failed(build, final)
        names = ", ".join(f"{r.name} ({r.error})" for r in failed)
        raise NotebookFailed(f"notebook failed, no report rendered or sent: {names}. The executed notebook "
                             f"with its error is in {where}/")

    scrubber = AddressScrubber()
    for alert in summary.alerts:  # account, campaign and target names are free text
        alert.text = scrubber.text(alert.text)
    summary.notes = [scrubber.text(n) for n in summary.notes]
    figures: list[Figure] = []
    sections = []
    for i, run in enumerate(r for r in runs if not r.skipped):
        output = Path(run.output)
        scrub_notebook_outputs(output, scrubber)
        sections.append(notebook_section(output, i + 1, scrubber, figures, run.seconds, loc))

    kernels_log = build / "kernels.log"
    if kernels_log.exists():  # what the kernels printed on stderr could quote data, too
        kernels_log.write_text(scrubber.text(kernels_log.read_text(encoding="utf-8", errors="replace")),
                               encoding="utf-8")

    from dlvstats import export

    csv_files = []
    for name, frame in [("summary", summary_frame(summary)), *summary.tables.items()]:
        path = build / f"{name}.csv"
        path.write_text(scrubber.text(export.to_csv(frame)), encoding="utf-8")
        csv_files.append(path.name)

    rendered_at = datetime.now(UTC)
    account = options.account_id
    context = {
        "title": loc.gettext(REPORT_TITLE),
        "loc": loc,
        "lang": loc.code,
        "month": month,
        "month_label": month_label(month, loc),
        "account": account,
        "complete_data": complete,
        "freshness": freshness_text,
        "data_end": f"{loc.moment(last)} UTC" if last else loc.gettext("no data"),
        "previous_month": previous_month(month),
        "month_short": loc.month_short(month_bounds(month)[0]),
        "previous_short": loc.month_short(month_bounds(previous_month(month))[0]),
        "year_before_short": loc.month_short(month_bounds(month_shift(month, -12))[0]),
        "trend_labels": [column_label(key, loc) or key for key, _, _ in TREND_COLUMNS],
        "summary": summary,
        "sections": sections,
        "figures": figures,
        "skipped": [r for r in runs if r.skipped],
        "csv_files": csv_files,
        "notebooks": [r for r in runs if not r.skipped],
        "rendered_at": f"{loc.moment(rendered_at)} UTC",
        "report_timezone": options.report_timezone,
        "version": __version__,
    }
    (build / "index.html").write_text(render_page(context), encoding="utf-8")
    manifest = {
        "status": "complete",
        "month": month,
        "account_id": account,
        "complete_data": complete,
        "freshness": freshness_text,
        "data_end": f"{last:%Y-%m-%d %H:%M} UTC" if last else "no data",  # machine-read: never translated
        "rendered_at": rendered_at.isoformat(timespec="seconds"),
        "dlvstats_version": __version__,
        "database": str(db_path),
        "notebooks": [{"name": r.name, "seconds": round(r.seconds, 1), "skipped": r.skipped,
                       "parameters": r.parameters} for r in runs],
        "figures": len(figures),
        "csv_files": csv_files,
        "alerts": [asdict(a) for a in summary.alerts],
        "headlines": [asdict(h) for h in summary.headlines],
        "addresses_hidden": scrubber.count,
    }
    (build / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return ReportResult(directory=build, index=build / "index.html", complete_data=complete,
                        notebooks=runs, summary=summary)


def email_subject(month: str, account_id: str | None, complete: bool, alert_count: int = 0,
                  loc: Locale | None = None) -> str:
    """'2 alerts — Deliverability report — acme — October 2026 [incomplete data]': the alert count first,
    so that a reader scanning an inbox sees which month needs attention."""
    loc = loc or ENGLISH
    parts = [loc.gettext(REPORT_TITLE), month_label(month, loc)]
    if account_id:
        parts.insert(1, account_id)
    if alert_count:
        parts.insert(0, loc.ngettext("{count} alert", "{count} alerts", alert_count).format(
            count=loc.integer(alert_count)))
    subject = " — ".join(parts)
    return subject if complete else subject + " " + loc.gettext("[incomplete data]")


#: Sender of a dry run with neither --mail-from nor DLVSTATS_MAIL_FROM (said in the log when used).
PLACEHOLDER_FROM = "dlvstats <dlvstats@localhost>"


def email_footer(options: ReportOptions, index: Path) -> str:
    """The e-mail's last line: where the full report is (attached, linked, or on the server only)."""
    _ = Locale(options.locale).gettext
    if options.attach_report:
        return _("The full report (index.html) and the metric tables (CSV) are attached.")
    if options.report_url:
        return _("The full report, with its charts and tables: {url}").format(url=options.report_url)
    return _("The full report, with its charts and tables, is on the reporting server: {path} "
             "(ask for it to be attached or linked).").format(path=index)


def _send(options: ReportOptions, month: str, result: ReportResult, settings, say) -> None:
    from dlvstats import mail

    loc = Locale(options.locale)
    summary = result.summary
    rows = [{"label": h.label, "value": h.value, "change": h.change, "tone": h.tone, "note": h.note,
             "interval": h.interval} for h in summary.headlines]
    alerts = [(a.level, a.text) for a in summary.alerts]
    notes = list(summary.notes)
    if not result.complete_data:
        notes.insert(0, loc.gettext("INCOMPLETE DATA") + ": " + read_manifest(result.directory).get("freshness", ""))
    footer = email_footer(options, result.index)
    title, label = loc.gettext(REPORT_TITLE), month_label(month, loc)
    scrubber = AddressScrubber()  # campaign names are free text: no address leaves in the e-mail
    conclusions = [(name, scrubber.text(sentence)) for name, sentence in summary.conclusions]
    html_body = mail.render_summary_html(title, label, options.account_id, rows, alerts, notes,
                                         footer=footer, locale=loc.code, conclusions=conclusions)
    text_body = mail.render_summary_text(title, label, options.account_id, rows, alerts, notes,
                                         footer=footer, locale=loc.code, conclusions=conclusions)
    attachments: list = []
    if options.attach_report:
        attachments = [result.index, *sorted(result.directory.glob("*.csv"))]
    mail_from = options.mail_from or (settings.mail_from if settings else None)
    if mail_from is None:
        mail_from = PLACEHOLDER_FROM
        say(f"no sender configured (--mail-from or DLVSTATS_MAIL_FROM): the dry-run e-mail comes from {mail_from}")
    alert_count = sum(1 for a in summary.alerts if a.level in ("critical", "warning"))
    message = mail.compose(email_subject(month, options.account_id, result.complete_data, alert_count, loc),
                           html_body, text_body, attachments, options.email, mail_from)
    if options.dry_run:
        result.eml = mail.write_eml(message, result.directory / "email.eml")
        say(f"dry run: e-mail written to {result.eml} (not sent)")
        return
    try:
        mail.send(message, settings, retries=MAIL_RETRIES, backoff_seconds=MAIL_BACKOFF_SECONDS)
    except mail.MailSendError as exc:
        raise ReportMailFailed(f"{exc}. The report is rendered and stays at {result.index}; "
                               "send it again with --force once the server is reachable.", result.index) from None
    result.emailed = True
    say(f"e-mailed to {len(options.email)} recipient(s)")


__all__ = [
    "AddressScrubber", "ReportOptions", "ReportResult", "declared_parameters", "escape_figure", "find_notebooks",
    "json_for_script", "last_complete_month", "report_dir", "run_report", "sanitize_html",
]
