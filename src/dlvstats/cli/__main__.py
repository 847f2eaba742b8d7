"""``python -m dlvstats.cli``: the ``dlvstats`` command."""

import sys

from dlvstats.cli.app import main

sys.exit(main())
