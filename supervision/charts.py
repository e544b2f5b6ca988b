"""Server-rendered SVG bar charts (no script), always shown beside a table of the same numbers."""
from __future__ import annotations

from markupsafe import Markup, escape


def bar_chart(rows: list[tuple[str, float | None]], *, title: str, max_value: float = 1.0, percent: bool = True,
              width: int = 320) -> Markup:
    """Horizontal bars, one per ``(label, value)``; ``None`` is drawn as "no data". Scales to its
    container (``viewBox``), so it fits a 375 px screen."""
    bar_h, gap, label_w = 18, 8, 120
    height = max(len(rows), 1) * (bar_h + gap) + gap
    parts = [f'<svg class="sup-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    span = width - label_w - 50
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        text = escape(label if len(label) <= 10 else label[:9] + "…")
        parts.append(f'<text x="0" y="{y + 13}" font-size="11">{text}</text>')
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 13}" font-size="11" fill="#666">—</text>')
            continue
        w = 0 if not max_value else max(0.0, min(1.0, value / max_value)) * span
        shown = f"{value * 100:.0f}%" if percent else f"{value:g}"
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#2f6fb0"></rect>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="11">{shown}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
