"""The accuracy harness: every estimator, in every simulated world, scored against the world's truth.

    from dlvstats.accuracy import runner, compare, markdown
    cells = runner.sweep(["realistic"], [1, 2], contacts=5000, months=6, cache_dir=..., work_dir=...)
    scored = compare.score(cells)
    compare.wrong_while_ok(scored)          # off by more than the tolerance while the status says ok

``benchmarks/accuracy.py`` runs the sweep and writes docs/accuracy.md; tests/test_accuracy.py runs a
small one in CI. Modules: ``estimates`` (one database's estimate cells beside the truth), ``compare``
(tolerances, coverage, statuses, summaries), ``runner`` (cached simulation, ingest, sweep),
``markdown`` (the report).
"""
