"""The Import Results chart: orders imported and failed per day, as SVG geometry.

The template draws what this computes: one bar per day (empty days too) stacked by series,
a count axis with round ticks, a date label every week, and the day's total above its bar.

Across, the chart takes the page's width: bars are placed in percent of the plot's width.
Up, it is drawn in pixels, unscaled, and so is every label: they read at the size the style
sheet gives them on a phone as on a wide screen (a viewBox would shrink a 720-wide drawing,
labels and all, to half its size at 390 px). The count axis is an SVG of its own, a fixed
width, beside the plot.
"""

SERIES = ("imported", "failed")
HEIGHT = 220  # px
TOP, BOTTOM = 36, 26  # room for the day's total (upright on a phone) and the date labels
AXIS_WIDTH = 44  # px: the count axis beside the plot
GAP = 0.3  # percent of the plot's width between two bars


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 times a power of ten that is at least ``value`` (and 1 or more)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(totals: list[dict]) -> dict:
    """Geometry for the template from ``totals``, one {"day", "imported", "failed"} a day:
    x and widths in percent of the plot's width, y and heights in pixels."""
    top = nice_ceiling(max((sum(day[s] for s in SERIES) for day in totals), default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = 100 / max(len(totals), 1)
    bars = []
    for index, day in enumerate(totals):
        x = index * slot
        y = baseline
        segments = []
        for series in SERIES:
            height = plot_height * day[series] / top
            y -= height
            if day[series]:
                segments.append({"series": series, "y": round(y, 1), "height": round(height, 1)})
        total = sum(day[s] for s in SERIES)
        # A label a week, counted back from today, so that today always has one; today's,
        # under the last bar, ends at the plot's right edge rather than past it.
        weekly = (len(totals) - 1 - index) % 7 == 0
        last = index == len(totals) - 1
        bars.append(
            {
                "x": round(x + GAP / 2, 3),
                "width": round(slot - GAP, 3),
                "middle": round(x + slot / 2, 3),
                "top": round(y, 1),
                "segments": segments,
                "day": day["day"],
                "total": total,
                "date_label": day["day"].strftime("%b %-d") if weekly else "",
                "date_x": 100 if last else round(x + slot / 2, 3),
                "date_anchor": "end" if last else "middle",
                "label": ", ".join(f"{day[s]} {s}" for s in SERIES),
            }
        )
    ticks = [
        {"value": value, "y": round(baseline - plot_height * value / top, 1)}
        for value in sorted({0, top // 2, top})
        if value == 0 or value * 2 == top or value == top
    ]
    return {
        "height": HEIGHT,
        "axis_width": AXIS_WIDTH,
        "baseline": baseline,
        "bars": bars,
        "ticks": ticks,
        "series": SERIES,
        "days": totals,
    }
