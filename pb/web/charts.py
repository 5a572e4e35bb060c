"""Bar charts as plain geometry for server-rendered SVG (no JavaScript, no chart library).

The templates draw the bars and always put a table with the same figures next to the chart, so
nothing is shown only as a picture or only by colour.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 400  # viewBox units; the SVG scales to the page width
ROW = 44  # height of one labelled bar
BAR = 16


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value_text: str
    y: int  # top of the label line
    width: float  # bar length in viewBox units
    highlight: bool


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int = WIDTH
    bar_height: int = BAR


def bar_chart(rows: list[tuple[str, float, str, bool]], scale_max: float | None = None) -> Chart:
    """``rows``: (label, value, value as text, highlighted); bars share one scale starting at 0."""
    top = scale_max if scale_max is not None else max((value for _, value, _, _ in rows), default=0)
    bars = [Bar(label, text, i * ROW, (WIDTH * value / top) if top > 0 else 0.0, highlight)
            for i, (label, value, text, highlight) in enumerate(rows)]
    return Chart(bars, max(ROW * len(rows), ROW))
