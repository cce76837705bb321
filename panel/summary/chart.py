"""The Summary's chart, drawn on the server as SVG: attempts as bars (left axis), customer charge as a line (right axis).

Only presentation attributes and classes (the stylesheet colours them): the page's CSP allows no
inline styles. Money labels are Decimal; floats are used only for pixel positions.
"""
from decimal import Decimal

from markupsafe import Markup, escape

from panel.summary.figures import Row

WIDTH, HEIGHT = 960, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 72, 16, 40
TICKS = 4
MAX_LABELS = 12  # period labels under the x axis; the others are in each bar's tooltip


def nice_step(maximum: Decimal) -> Decimal:
    """A round step (1, 2 or 5 × 10^n) such that TICKS steps reach `maximum`."""
    if maximum <= 0:
        return Decimal(1)
    rough = maximum / TICKS
    exponent = rough.adjusted()
    for factor in (1, 2, 5, 10):
        step = Decimal(factor).scaleb(exponent)
        if step >= rough:
            return step
    return Decimal(10).scaleb(exponent)  # not reached


def _axis_label(frame: str, row: Row) -> str:
    if frame == "live":
        return f"{row.start:%H}:00"
    if frame == "monthly":
        return f"{row.start:%Y-%m}"
    return f"{row.start:%m-%d}"


def _tick(value: Decimal, step: Decimal) -> str:
    """A charge tick with as many decimals as the step has (0.005 → 3, 200 → 0)."""
    places = max(0, -step.normalize().as_tuple().exponent)
    return f"{value:,.{places}f}"


def render(frame: str, rows: list[Row], currency: str, title: str) -> Markup:
    """`rows` newest first, as the grid lists them; the chart runs from the oldest on the left."""
    rows = list(reversed(rows))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    calls_step = max(nice_step(Decimal(max((r.calls for r in rows), default=0))), Decimal(1))
    calls_step = calls_step.to_integral_value() if calls_step >= 1 else Decimal(1)
    charge_step = nice_step(max((r.charge for r in rows), default=Decimal(0)))
    calls_top, charge_top = calls_step * TICKS, charge_step * TICKS
    slot = plot_w / max(len(rows), 1)
    bar_w = max(slot * 0.6, 1)

    def y(value: Decimal, top: Decimal) -> float:
        return TOP + plot_h - float(value / top) * plot_h

    out = [
        f'<svg class="summary-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="summary-chart-title '
        f'summary-chart-desc" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="summary-chart-title">{escape(title)}</title>',
        f'<desc id="summary-chart-desc">Bars: attempts per period (left axis). Line: customer charge in '
        f'{escape(currency)} (right axis). {len(rows)} periods, oldest on the left, 24-hour UTC.</desc>',
    ]
    # Grid lines and both axes' tick labels.
    for i in range(TICKS + 1):
        gy = TOP + plot_h - plot_h * i / TICKS
        out.append(f'<line class="grid-line" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{gy:.1f}" y2="{gy:.1f}" '
                   f'stroke="#e4e7ec" stroke-width="1"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11" '
                   f'fill="#667085">{int(calls_step * i):,}</text>')
        out.append(f'<text class="tick" x="{LEFT + plot_w + 6}" y="{gy + 4:.1f}" text-anchor="start" font-size="11" '
                   f'fill="#667085">{_tick(charge_step * i, charge_step)}</text>')
    out.append(f'<text class="axis-title" x="14" y="{TOP + plot_h / 2:.1f}" font-size="11" fill="#667085" '
               f'text-anchor="middle" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">Attempts</text>')
    out.append(f'<text class="axis-title" x="{WIDTH - 10}" y="{TOP + plot_h / 2:.1f}" font-size="11" fill="#667085" '
               f'text-anchor="middle" transform="rotate(90 {WIDTH - 10} {TOP + plot_h / 2:.1f})">'
               f'Charge ({escape(currency)})</text>')
    # Bars, each with its figures as a tooltip.
    every = max(1, -(-len(rows) // MAX_LABELS))
    points = []
    for i, row in enumerate(rows):
        cx = LEFT + slot * (i + 0.5)
        top = y(Decimal(row.calls), calls_top)
        height = TOP + plot_h - top
        out.append(f'<rect class="bar" x="{cx - bar_w / 2:.1f}" y="{top:.1f}" width="{bar_w:.1f}" '
                   f'height="{height:.1f}" fill="#9db4e0"><title>{escape(row.label)}: {row.calls:,} attempts, '
                   f'{row.charge:,.4f} {escape(currency)} charged</title></rect>')
        points.append(f"{cx:.1f},{y(row.charge, charge_top):.1f}")
        if i % every == 0:
            out.append(f'<text class="tick" x="{cx:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" font-size="11" '
                       f'fill="#667085">{escape(_axis_label(frame, row))}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
               f'stroke="#98a2b3" stroke-width="1"/>')
    if points:
        out.append(f'<polyline class="charge-line" points="{" ".join(points)}" fill="none" stroke="#b54708" '
                   f'stroke-width="2" stroke-linejoin="round"/>')
        for point in points:
            px, py = point.split(",")
            out.append(f'<circle class="charge-point" cx="{px}" cy="{py}" r="2.5" fill="#b54708"/>')
    # Legend.
    lx = LEFT
    ly = HEIGHT - 8
    out.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="#9db4e0"/>'
               f'<text x="{lx + 14}" y="{ly}" font-size="11" fill="#1d2430">Attempts</text>'
               f'<line x1="{lx + 90}" x2="{lx + 104}" y1="{ly - 4}" y2="{ly - 4}" stroke="#b54708" stroke-width="2"/>'
               f'<text x="{lx + 108}" y="{ly}" font-size="11" fill="#1d2430">Customer charge ({escape(currency)})</text>')
    out.append("</svg>")
    return Markup("".join(out))
