"""tools/check_sizes.py (run by `make lint`): a file over 500 lines or a function over 80 fails it,
on planted files; small ones pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "check_sizes.py"


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), str(root)], capture_output=True, text=True, timeout=60,
                          check=False)


def function(name: str, lines: int, indent: str = "") -> str:
    """A function of exactly ``lines`` lines, ``def`` line included."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 2))
    return f"{indent}def {name}():\n{body}{indent}    return 0\n"


def test_small_files_and_functions_pass(tmp_path):
    (tmp_path / "ok.py").write_text(function("fits", 80) + "\n" * 300, encoding="utf-8")
    done = check(tmp_path)
    assert done.returncode == 0, done.stdout


def test_a_long_function_fails_naming_it(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("class Box:\n" + function("too_long", 81, "    "), encoding="utf-8")
    done = check(tmp_path)
    assert done.returncode == 1
    assert "m.py:2: Box.too_long is 81 lines (at most 80)" in done.stdout


def test_a_long_nested_function_fails(tmp_path):
    outer = "def outer():\n" + function("inner", 85, "    ") + "    return inner\n"
    (tmp_path / "n.py").write_text(outer, encoding="utf-8")
    done = check(tmp_path)
    assert done.returncode == 1 and "outer.inner is 85 lines" in done.stdout
    assert "n.py:1: outer is" in done.stdout  # the outer one is over 80 too: each is said


def test_a_long_file_fails(tmp_path):
    (tmp_path / "big.py").write_text("x = 1\n" * 501, encoding="utf-8")
    done = check(tmp_path)
    assert done.returncode == 1 and "big.py: 501 lines (at most 500)" in done.stdout
