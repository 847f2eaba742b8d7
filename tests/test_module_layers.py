"""Every module of the package sits in the import-linter layers (pyproject.toml), so the boundaries
`lint-imports` checks cover the whole package: a new module outside them fails here."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "dlvstats"


def _layered() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    return {name.strip() for layer in layers for name in layer.split("|")}


def test_every_module_is_in_a_layer():
    modules = {f"dlvstats.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    packages = {f"dlvstats.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert len(modules | packages) > 20
    missing = sorted((modules | packages) - _layered())
    assert missing == [], f"modules in no import-linter layer (add them to pyproject.toml): {missing}"
