"""Small, accessible SVG bar charts for the press release (no plotting library in the Lambda).

Each chart carries a <title> and <desc> for screen readers and prints its numbers on the
bars, so it reads without colour and survives being pasted into a CMS.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from chalicelib.domain.text import number

COLOURS = ("#1f5f8b", "#e07b39")
FONT = "font-family='Helvetica, Arial, sans-serif' font-size='12'"


def _fmt(v: float, lang: str) -> str:
    return number(v, lang)  # 1.234 in Danish, 1,234 in English


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
    left, right, top, bottom = 48, 16, 40, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([v for _, values in series for v in values] + [1])
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.8 / max(1, len(series))
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-labelledby='{ident}-t {ident}-d'>",
        f"<title id='{ident}-t'>{escape(title)}</title>"
        f"<desc id='{ident}-d'>{escape(description)}</desc>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='{left}' y='22' {FONT} font-size='15' font-weight='bold'>{escape(title)}</text>",
        f"<line x1='{left}' y1='{top + plot_h}' x2='{width - right}' y2='{top + plot_h}' "
        "stroke='#444'/>",
    ]
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
                out.append(
                    f"<text x='{x + bar_w * 0.46:.1f}' y='{y - 3:.1f}' {FONT} font-size='10' "
                    f"text-anchor='middle'>{_fmt(v, lang)}</text>"
                )
        out.append(
            f"<text x='{left + i * group_w + group_w / 2:.1f}' y='{top + plot_h + 16}' {FONT} "
            f"font-size='11' text-anchor='middle'>{escape(label)}</text>"
        )
    if len(series) > 1:
        for j, (name, _) in enumerate(series):
            x = left + j * 160
            out.append(
                f"<rect x='{x}' y='{height - 18}' width='12' height='12' "
                f"fill='{COLOURS[j % len(COLOURS)]}'/>"
                f"<text x='{x + 18}' y='{height - 8}' {FONT}>{escape(name)}</text>"
            )
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
    """Horizontal bars, one per row (long labels such as industry names)."""
    row_h, top, label_w = 22, 40, 300
    height = top + row_h * len(rows) + 16
    top_value = max([v for _, v in rows] + [1])
    plot_w = width - label_w - 70
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-labelledby='{ident}-t {ident}-d'>",
        f"<title id='{ident}-t'>{escape(title)}</title>"
        f"<desc id='{ident}-d'>{escape(description)}</desc>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='8' y='22' {FONT} font-size='15' font-weight='bold'>{escape(title)}</text>",
    ]
    for i, (label, v) in enumerate(rows):
        y = top + i * row_h
        w = plot_w * v / top_value
        out.append(
            f"<text x='{label_w - 6}' y='{y + 15}' {FONT} text-anchor='end'>"
            f"{escape(label[:48])}</text>"
            f"<rect x='{label_w}' y='{y + 4}' width='{w:.1f}' height='{row_h - 8}' "
            f"fill='{COLOURS[0]}'/>"
            f"<text x='{label_w + w + 4:.1f}' y='{y + 15}' {FONT}>{_fmt(v, lang)}</text>"
        )
    out.append("</svg>")
    return "".join(out)
