"""dlvstats: deliverability analytics over DuckDB.

Importing the package must stay cheap (the CLI's start-up time depends on it): no heavy imports here.
"""

__version__ = "0.1.0"


def __getattr__(name):
    """``dlvstats.open`` and ``dlvstats.Session`` (the analysts' API, dlvstats.api), imported on first use."""
    if name in ("open", "Session"):
        from dlvstats import api

        return getattr(api, name)
    raise AttributeError(f"module 'dlvstats' has no attribute {name!r}")
