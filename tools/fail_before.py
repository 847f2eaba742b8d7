"""Check that each input-defect test fails on the code before its fix and passes on the fix.

For every case below: check out the fix commit's parent in a scratch worktree, lay the tests
*as committed with the fix* over it, run the named tests with that worktree's `src/` first on
the path, and expect them to fail; then check out the fix's own `src/` and expect them to pass.
A test that cannot even be collected before the fix (an import error) is reported as such, not
counted as a proper failure.

    .venv/bin/python tools/fail_before.py            # every case, a Markdown table on stdout
    .venv/bin/python tools/fail_before.py --only 3   # one defect

It needs git history (a full clone) and takes a few minutes: it is a check to run when the fixes
change, not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFECTS = "tests/test_input_defects.py"
KEYS = "tests/test_ingest_complaint_keys.py"


@dataclass(frozen=True)
class Case:
    defect: str
    what: str
    fix: str            # the commit that fixed it
    tests: tuple[str, ...]
    tests_at: str = ""  # the commit whose tests to run (default: the fix itself)


CASES = (
    Case("1", "PowerMTA without timeQueued/jobId merged messages", "c380c64",
         (f"{DEFECTS}::test_pmta_without_queue_time_or_job_keeps_each_message",)),
    Case("2", "ARF with no address in To: refused the ingest", "99032b4",
         (f"{DEFECTS}::test_arf_undisclosed_recipient_is_attributed_by_message_id",)),
    Case("2", "ARF listing two recipients gave one complaint", "99032b4",
         (f"{DEFECTS}::test_arf_report_listing_two_recipients_gives_two_complaints",)),
    Case("3", "Excel scientific-notation ids merged silently", "4a710a6",
         (f"{DEFECTS}::test_excel_scientific_ids_are_refused_naming_the_column",)),
    Case("4", "Postfix to=<system> refused; forwarded counted as a send", "051656d",
         (f"{DEFECTS}::test_postfix_local_recipient_and_forward_are_counted_and_skipped",)),
    Case("5", "a date without a time landed on the previous day", "7181cef",
         (f"{DEFECTS}::test_a_date_without_time_stays_on_its_day",)),
    Case("5", "months cut in UTC with no option (Paris 00:30 in October)", "fd86811",
         ("tests/test_report_timezone.py::test_a_paris_month_counts_the_0030_message_in_november",)),
    Case("6", "Mailgun 498 stored as an SMTP code", "2d87c66",
         (f"{DEFECTS}::test_mailgun_internal_code_498_is_not_an_smtp_code",)),
    Case("6", "Excel's sep=; line refused as a header", "e81e506",
         (f"{DEFECTS}::test_excel_sep_line_is_understood",)),
    Case("6", "SES SNS body without TopicArn / Message escaped twice", "9051b4e",
         (f"{DEFECTS}::test_ses_sns_body_without_topicarn_and_message_escaped_twice",)),
    Case("6", "Mailtrap taken for SendGrid", "9051b4e",
         (f"{DEFECTS}::test_mailtrap_is_not_taken_for_sendgrid",)),
    Case("6", "a refusal under auto advised --format auto", "9051b4e",
         (f"{DEFECTS}::test_auto_refusal_does_not_advise_auto",)),
    Case("6", "'not recognised' did not list the formats", "9051b4e",
         (f"{DEFECTS}::test_auto_says_not_recognised_listing_the_formats",), tests_at="977da11"),
    Case("2", "ARF listing 7 recipients, unmatched: 1 loaded, 6 duplicates", "d0965ce",
         (KEYS + "::test_report_with_seven_recipients_loads_seven_complaints_then_seven_duplicates",)),
)


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def run_tests(tree: Path, tests: tuple[str, ...]) -> tuple[str, str]:
    """('passed' | 'failed' | 'not collected', the first assertion or error line)."""
    env = dict(os.environ, PYTHONPATH=f"{tree / 'src'}{os.pathsep}{tree}")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *tests],
                          check=False, cwd=tree, env=env, capture_output=True, text=True, timeout=900)
    out = done.stdout + done.stderr
    if done.returncode == 0:
        return "passed", ""
    if done.returncode in (2, 4) or re.search(r"^ERROR collecting|ImportError", out, re.MULTILINE):
        return "not collected", _first(out, r"^E\s+.*(Error|error).*$")
    return "failed", _first(out, r"^E\s+.+$")


def _first(text: str, pattern: str) -> str:
    hit = re.search(pattern, text, re.MULTILINE)
    return hit.group(0)[1:].strip()[:110] if hit else "(see pytest output)"


def check(case: Case, scratch: Path) -> dict[str, str]:
    tree = scratch / f"wt-{case.fix}"
    if not tree.exists():
        git("worktree", "add", "--detach", "--quiet", str(tree), f"{case.fix}^")
    git("checkout", "--quiet", f"{case.fix}^", "--", "src", cwd=tree)
    git("checkout", "--quiet", case.tests_at or case.fix, "--", "tests", cwd=tree)
    before, why = run_tests(tree, case.tests)
    git("checkout", "--quiet", case.fix, "--", "src", cwd=tree)
    after, _ = run_tests(tree, case.tests)
    return {"before": before, "why": why, "after": after}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only the cases of this defect number")
    args = ap.parse_args(argv)
    cases = [c for c in CASES if args.only in (None, c.defect)]
    print("| defect | what | fix | before the fix | with the fix | first failure before |")
    print("|---|---|---|---|---|---|")
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlv-failbefore-") as tmp:
        try:
            for case in cases:
                got = check(case, Path(tmp))
                bad += got["before"] != "failed" or got["after"] != "passed"
                why = got["why"].replace("|", "\\|")
                print(f"| {case.defect} | {case.what} | {case.fix} | {got['before']} | {got['after']} | `{why}` |",
                      flush=True)
        finally:
            for tree in Path(tmp).glob("wt-*"):
                git("worktree", "remove", "--force", str(tree))
    print(f"\n{len(cases) - bad} of {len(cases)} cases fail before their fix and pass with it.")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
