"""Shared figure builders (see the package docstring)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dlvstats.i18n import DEFAULT_LOCALE, format_message, locale_of

PALETTE = ["#1f5fa8", "#d9822b", "#2e9c5b", "#b5384b", "#7a5ba8", "#5b6770", "#c9a227", "#1a9aa0"]
TEMPLATE = "plotly_white"


def _finish(fig: go.Figure, title: str, x_title: str, y_title: str, reading: str, *,
            i18n: dict | None = None) -> go.Figure:
    """Title, axes, template and the reading note. A title or reading built from the data gives its
    catalogue template and arguments in ``i18n`` (``{"title": (template, args), "reading": ...}``,
    see ``dlvstats.i18n.format_message``), so a reader's language can rebuild it; the report drops
    them from the page."""
    fig.update_layout(
        title={"text": title},
        xaxis_title=x_title,
        yaxis_title=y_title,
        template=TEMPLATE,
        colorway=PALETTE,
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 60, "l": 60, "r": 20, "b": 60},
        meta={"reading": reading, **({"i18n": i18n} if i18n else {})},
    )
    return fig


def built_from_data(fig: go.Figure, *, title: tuple[str, dict] | None = None,
                    reading: tuple[str, dict] | None = None) -> go.Figure:
    """Record the catalogue template and arguments of a title or reading note built from the data
    (the English text on the figure is unchanged; ``translate_figure`` and ``reading_of`` use them)."""
    meta = dict(fig.layout.meta or {})
    meta["i18n"] = {**meta.get("i18n", {}), **({"title": list(title)} if title else {}),
                    **({"reading": list(reading)} if reading else {})}
    fig.update_layout(meta=meta)
    return fig


def reading_of(fig: go.Figure, locale: str = "en") -> str:
    """The one-line 'how to read this chart' note of a figure built here, in the reader's language
    (``locale``: the notebook's parameter; a note the catalogue lacks stays English)."""
    meta = fig.layout.meta
    reading = (meta or {}).get("reading", "") if isinstance(meta, dict) else ""
    if locale == DEFAULT_LOCALE or not reading:
        return reading
    loc = locale_of(locale)
    built = (meta.get("i18n") or {}).get("reading")
    return format_message(loc, *built) if built else loc.gettext(reading)


def rate_chart(
    df: pd.DataFrame,
    x: str,
    rates: list[str],
    *,
    title: str,
    x_title: str,
    y_title: str,
    reading: str,
    labels: dict[str, str] | None = None,
    kind: str = "line",
    percent: bool = True,
    small_cell_column: str | None = "small_cell",
) -> go.Figure:
    """One trace per rate column, each with its ``{rate}_low``/``{rate}_high`` interval as error bars.

    Points from cells flagged small are drawn hollow, so a reader sees which estimates are fragile.
    """
    fig = go.Figure()
    scale = 100.0 if percent else 1.0
    for i, rate in enumerate(rates):
        y = df[rate] * scale
        err_plus = (df[f"{rate}_high"] - df[rate]) * scale if f"{rate}_high" in df else None
        err_minus = (df[rate] - df[f"{rate}_low"]) * scale if f"{rate}_low" in df else None
        symbols = None
        if small_cell_column and small_cell_column in df:
            symbols = ["circle-open" if s else "circle" for s in df[small_cell_column]]
        common = {
            "x": df[x], "y": y, "name": (labels or {}).get(rate, rate),
            "marker": {"color": PALETTE[i % len(PALETTE)], **({"symbol": symbols} if symbols and kind == "line" else {})},
            "error_y": None if err_plus is None else {"type": "data", "array": err_plus, "arrayminus": err_minus, "visible": True},
            "hovertemplate": "%{x}: %{y:.2f}" + ("%" if percent else "") + "<extra>%{fullData.name}</extra>",
        }
        if kind == "bar":
            fig.add_trace(go.Bar(**common))
        else:
            fig.add_trace(go.Scatter(mode="lines+markers", **common))
    if kind == "bar":
        fig.update_layout(barmode="group")
    fig = _finish(fig, title, x_title, y_title + (" (%)" if percent and "%" not in y_title else ""), reading)
    return fig


def heatmap(df: pd.DataFrame, x: str, y: str, value: str, *, title: str, x_title: str, y_title: str,
            reading: str, percent: bool = True, text: str | None = None) -> go.Figure:
    table = df.pivot_table(index=y, columns=x, values=value, aggfunc="first")
    z = table.to_numpy() * (100.0 if percent else 1.0)
    hover_text = None
    if text is not None:
        hover_text = df.pivot_table(index=y, columns=x, values=text, aggfunc="first").to_numpy()
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(c) for c in table.columns], y=[str(i) for i in table.index],
        colorscale="Blues", colorbar={"title": "%" if percent else value},
        text=hover_text, hovertemplate="%{y} / %{x}: %{z:.2f}<br>%{text}<extra></extra>" if text else None,
    ))
    return _finish(fig, title, x_title, y_title, reading)


def timeline(df: pd.DataFrame, x: str, ys: list[str], *, title: str, x_title: str, y_title: str,
             reading: str, labels: dict[str, str] | None = None, percent: bool = True,
             hlines: dict[str, float] | None = None, events: pd.DataFrame | None = None) -> go.Figure:
    """Rates over time with optional threshold lines (e.g. 0.1%/0.3%) and event markers (listings)."""
    fig = rate_chart(df, x, ys, title=title, x_title=x_title, y_title=y_title, reading=reading,
                     labels=labels, percent=percent)
    for name, value in (hlines or {}).items():
        fig.add_hline(y=value * (100.0 if percent else 1.0), line_dash="dash", line_color="#b5384b",
                      annotation_text=name, annotation_position="top left")
    if events is not None:
        for _, row in events.iterrows():
            fig.add_vline(x=row["ts"], line_dash="dot", line_color="#5b6770")
            fig.add_annotation(x=row["ts"], y=1, yref="paper", text=str(row["label"]), showarrow=False,
                               textangle=-90, xanchor="left", font={"size": 10})
    return fig
