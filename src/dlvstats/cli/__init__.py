"""The ``dlvstats`` command line, on click: one module per command group (``dlvstats.cli.ingest``,
``dlvstats.cli.metrics``, ...), the shared options and types in ``dlvstats.cli.common``, the root
group and ``main`` in ``dlvstats.cli.app``. Commands compose the domain modules' functions, which
take plain arguments; the exit codes are ``dlvstats.exit_codes``'s.
"""

from __future__ import annotations

from dlvstats.cli.app import app, main
from dlvstats.cli.simulate import ESP_WRITERS

__all__ = ["ESP_WRITERS", "app", "main"]
