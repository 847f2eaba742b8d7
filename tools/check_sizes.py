"""Fail when a Python file under src/ is longer than 500 lines or a function longer than 80.

Run by ``make lint``. A function's length is counted from its ``def`` line to its last line
(docstring and comments included; decorators, such as a command's click options, not). Nested
functions and methods are measured on their own. No allowlist: a file or function over the limit
is split, not excused.

    python tools/check_sizes.py [ROOT ...]       (default: src)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80


def file_lines(text: str) -> int:
    return len(text.splitlines())


def long_functions(tree: ast.AST) -> list[tuple[int, str, int]]:
    """(line, qualified name, length) of every function longer than ``MAX_FUNCTION_LINES``."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                length = child.end_lineno - child.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append((child.lineno, name, length))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    said = []
    lines = file_lines(text)
    if lines > MAX_FILE_LINES:
        said.append(f"{path}: {lines} lines (at most {MAX_FILE_LINES}): split the module")
    for line, name, length in long_functions(ast.parse(text, filename=str(path))):
        said.append(f"{path}:{line}: {name} is {length} lines (at most {MAX_FUNCTION_LINES}): split it")
    return said


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path("src")]
    files = sorted(p for root in roots for p in ([root] if root.is_file() else root.rglob("*.py")))
    said = [message for path in files for message in problems(path)]
    for message in said:
        print(message)
    if said:
        print(f"{len(said)} size problem(s) in {len(files)} Python files", file=sys.stderr)
        return 1
    print(f"{len(files)} Python files: none over {MAX_FILE_LINES} lines, no function over {MAX_FUNCTION_LINES}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
