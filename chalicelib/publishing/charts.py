"""Small, accessible SVG bar charts for the press release (no plotting library in the Lambda).

Each chart is a standalone XML document that opens as an image (`<img src=...>` in a release,
a CMS or Markdown) and inlines in HTML alike. It carries a <title> and a <desc> in its own
language for screen readers (the desc lists every value, so the chart reads without seeing
it), prints its numbers in the language's format on the bars, and wraps long labels onto
more lines instead of cutting them: an industry's full name is part of the figure.

Every element gets each attribute once: a repeated attribute (a shared font-size overridden
by another) makes the whole file invalid XML, and a browser shows it as a broken image.
"""

from __future__ import annotations

import textwrap
from xml.sax.saxutils import escape

from chalicelib.domain.text import number

COLOURS = ("#1f5f8b", "#e07b39")
FONT_FAMILY = "Helvetica, Arial, sans-serif"
# Average advance of a character as a share of the font size, a little over Helvetica's
# (about 0.5 for Danish text) so that an estimated line is never longer than the drawn one.
CHAR_WIDTH = 0.58
LINE_HEIGHT = 1.25  # of the font size


def _fmt(v: float, lang: str) -> str:
    return number(v, lang)  # 1.234 in Danish, 1,234 in English


def wrap(text: str, width_px: float, font_size: float) -> list[str]:
    """The label's lines for a space `width_px` wide, broken between words only, so the lines
    joined by spaces give the label back (a word longer than a line keeps its own line)."""
    chars = max(4, int(width_px / (font_size * CHAR_WIDTH)))
    words = " ".join(text.split())
    return textwrap.wrap(words, chars, break_long_words=False, break_on_hyphens=False) or [""]


def _text(
    lines: list[str],
    x: float,
    y: float,
    size: float,
    *,
    anchor: str = "start",
    bold: bool = False,
) -> str:
    """A <text> whose lines are <tspan>s under each other, the first on the baseline y."""
    weight = " font-weight='bold'" if bold else ""
    spans = "".join(
        f"<tspan x='{x:.1f}' dy='{0 if i == 0 else size * LINE_HEIGHT:.1f}'>{escape(line)}</tspan>"
        for i, line in enumerate(lines)
    )
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-family='{FONT_FAMILY}' font-size='{size:g}' "
        f"text-anchor='{anchor}'{weight}>{spans}</text>"
    )


def _open(ident: str, width: int, height: float, title: str, desc: str, lang: str) -> list[str]:
    return [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height:.0f}' "
        f"viewBox='0 0 {width} {height:.0f}' role='img' lang='{lang}' xml:lang='{lang}' "
        f"aria-labelledby='{ident}-t {ident}-d'>",
        f"<title id='{ident}-t'>{escape(title)}</title>",
        f"<desc id='{ident}-d'>{escape(desc)}</desc>",
        f"<rect width='{width}' height='{height:.0f}' fill='white'/>",
    ]


def _described(description: str, values: list[str]) -> str:
    """The description with the chart's values after it, for a reader who cannot see them."""
    return f"{description} {'; '.join(values)}." if values else description


def bar_chart(
    title: str,
    description: str,
    labels: list[str],
    series: list[tuple[str, list[float]]],
    *,
    ident: str = "chart",
    width: int = 640,
    height: int = 320,
    lang: str = "da",
) -> str:
    """Vertical bars: one group per label, one bar per series."""
    left, right = 48, 16
    title_lines = wrap(title, width - left - right, 15)
    top = 22 + 15 * LINE_HEIGHT * (len(title_lines) - 1) + 18
    plot_w = width - left - right
    group_w = plot_w / max(1, len(labels))
    label_lines = [wrap(label, group_w - 4, 11) for label in labels]
    label_h = 11 * LINE_HEIGHT * max([len(lines) for lines in label_lines] + [1])
    legend_h = 24 if len(series) > 1 else 0
    bottom = 10 + label_h + legend_h
    plot_h = max(120, height - top - bottom)
    height = round(top + plot_h + bottom)
    top_value = max([v for _, values in series for v in values] + [1])
    bar_w = group_w * 0.8 / max(1, len(series))
    if len(series) > 1:
        said = [
            f"{label}: " + ", ".join(f"{name} {_fmt(values[i], lang)}" for name, values in series)
            for i, label in enumerate(labels)
        ]
    else:
        said = [f"{label}: {_fmt(series[0][1][i], lang)}" for i, label in enumerate(labels)]
    out = _open(ident, width, height, title, _described(description, said), lang)
    out.append(_text(title_lines, left, 22, 15, bold=True))
    out.append(
        f"<line x1='{left}' y1='{top + plot_h:.1f}' x2='{width - right}' y2='{top + plot_h:.1f}' "
        "stroke='#444'/>"
    )
    for i, label in enumerate(labels):
        x0 = left + i * group_w + group_w * 0.1
        for j, (_, values) in enumerate(series):
            v = values[i]
            h = plot_h * v / top_value
            x = x0 + j * bar_w
            y = top + plot_h - h
            out.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar_w * 0.92:.1f}' height='{h:.1f}' "
                f"fill='{COLOURS[j % len(COLOURS)]}'>"
                f"<title>{escape(label)}: {_fmt(v, lang)}</title></rect>"
            )
            if len(labels) * len(series) <= 24:
                out.append(_text([_fmt(v, lang)], x + bar_w * 0.46, y - 3, 10, anchor="middle"))
        out.append(
            _text(
                label_lines[i],
                left + i * group_w + group_w / 2,
                top + plot_h + 16,
                11,
                anchor="middle",
            )
        )
    if len(series) > 1:
        for j, (name, _) in enumerate(series):
            x = left + j * 160
            out.append(
                f"<rect x='{x}' y='{height - 18}' width='12' height='12' "
                f"fill='{COLOURS[j % len(COLOURS)]}'/>"
            )
            out.append(_text([name], x + 18, height - 8, 12))
    out.append("</svg>")
    return "".join(out)


def hbar_chart(
    title: str,
    description: str,
    rows: list[tuple[str, float]],
    *,
    ident: str = "chart",
    width: int = 640,
    lang: str = "da",
) -> str:
    """Horizontal bars, one per row (long labels such as industry names, wrapped)."""
    label_w, pad = 300, 8
    title_lines = wrap(title, width - 2 * pad, 15)
    top = 22 + 15 * LINE_HEIGHT * (len(title_lines) - 1) + 18
    line_h = 12 * LINE_HEIGHT
    wrapped = [wrap(label, label_w - 6 - pad, 12) for label, _ in rows]
    heights = [max(22.0, len(lines) * line_h + 7) for lines in wrapped]
    height = top + sum(heights) + 16
    top_value = max([v for _, v in rows] + [1])
    plot_w = width - label_w - 70
    said = [f"{label}: {_fmt(v, lang)}" for label, v in rows]
    out = _open(ident, width, height, title, _described(description, said), lang)
    out.append(_text(title_lines, pad, 22, 15, bold=True))
    y = top
    for (label, v), lines, row_h in zip(rows, wrapped, heights, strict=True):
        w = plot_w * v / top_value
        # the label's lines centred on the bar, which is centred in its row
        first = y + row_h / 2 - (len(lines) - 1) * line_h / 2 + 4
        out.append(_text(lines, label_w - 6, first, 12, anchor="end"))
        out.append(
            f"<rect x='{label_w}' y='{y + row_h / 2 - 7:.1f}' width='{w:.1f}' height='14' "
            f"fill='{COLOURS[0]}'><title>{escape(label)}: {_fmt(v, lang)}</title></rect>"
        )
        out.append(_text([_fmt(v, lang)], label_w + w + 4, y + row_h / 2 + 4, 12))
        y += row_h
    out.append("</svg>")
    return "".join(out)
