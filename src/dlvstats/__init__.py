"""dlvstats: deliverability analytics over DuckDB.

Importing the package must stay cheap (the CLI's start-up time depends on it): no heavy imports here.
"""

__version__ = "0.1.0"
