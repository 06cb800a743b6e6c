"""The report's charts: Vega-Lite specs (altair) rendered to SVG text by vl-convert, in the
process: no data or font is fetched (the data is inline, no URL is allowed, the text uses the
system's sans-serif family), so the SVG goes into a page that opens offline.

Importing altair takes about 0.4 s: ghsync/report.py imports this module only to draw a page.
"""

from __future__ import annotations

from typing import Literal

import altair as alt
import polars as pl
import vl_convert

WIDTH = 560
HEIGHT = 200


def weekly_chart(
    long: pl.DataFrame,
    weeks: list[str],
    *,
    title: str,
    unit: str,
    mark: Literal["bar", "line"],
    percent: bool = False,
) -> str | None:
    """Rows (iso_week, series, value) as SVG over the ISO weeks `weeks` (the x axis): bars side
    by side, or lines; `unit` titles the y axis, `percent` shows values (shares of 1) as %.
    None when every value is null or zero: nothing to draw."""
    long = long.drop_nulls("value")
    if long.filter(pl.col("value") != 0).is_empty():
        return None
    order = long["series"].unique(maintain_order=True).to_list()
    base = alt.Chart(long, title=title)
    x = alt.X(
        "iso_week:O", title="ISO week", scale=alt.Scale(domain=weeks), axis=alt.Axis(labelAngle=-45)
    )
    y = alt.Y("value:Q", title=unit, axis=alt.Axis(format="%") if percent else alt.Axis())
    color = alt.Color("series:N", title=None, sort=order)
    marked = (
        base.mark_bar().encode(xOffset=alt.XOffset("series:N", sort=order))
        if mark == "bar"
        else base.mark_line(point=True)
    )
    chart = marked.encode(x, y, color, tooltip=["iso_week:O", "series:N", "value:Q"])
    return _svg(chart.properties(width=WIDTH, height=HEIGHT))


def ranking_chart(frame: pl.DataFrame, label: str, value: str, *, title: str, unit: str) -> str:
    """Horizontal bars of `value` per `label` of `frame`, the largest on top."""
    chart = (
        alt.Chart(frame.select(label, value))
        .mark_bar()
        .encode(
            alt.X(f"{value}:Q", title=unit),
            alt.Y(f"{label}:N", title=None, sort="-x"),
            tooltip=[f"{label}:N", f"{value}:Q"],
        )
        .properties(title=title, width=WIDTH - 80, height=alt.Step(16))
    )
    return _svg(chart)


def _svg(chart: alt.Chart) -> str:
    spec = chart.configure(font="sans-serif").to_dict()
    svg: str = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    return svg
