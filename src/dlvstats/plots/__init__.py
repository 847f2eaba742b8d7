"""Plotly figure builders: a small DataFrame in, a Figure out. One palette, labelled axes,
intervals drawn as error bars or bands, a title that says what is shown, and a one-line
``reading`` note (how to read the chart) kept in the figure's layout meta so notebooks and the
report can print it under the chart.

Builders are shared by chart type (``rate_chart``, ``heatmap``, ``timeline``); analysis-specific
builders live in sibling modules. Must not query the database.
"""

from dlvstats.plots.base import PALETTE, built_from_data, heatmap, rate_chart, reading_of, timeline  # noqa: F401
