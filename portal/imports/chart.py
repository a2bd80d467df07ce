"""The Import Results chart: orders imported and failed per day, as SVG geometry.

The template draws what this computes: one bar per day (empty days too) stacked by series,
a count axis with round ticks, a date label every week, and the day's total above its bar.
"""

SERIES = ("imported", "failed")
WIDTH, HEIGHT = 720, 210
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 16, 26  # room for the count axis and the date labels
GAP = 2


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 times a power of ten that is at least ``value`` (and 1 or more)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(totals: list[dict]) -> dict:
    """Geometry for the template from ``totals``, one {"day", "imported", "failed"} a day."""
    top = nice_ceiling(max((sum(day[s] for s in SERIES) for day in totals), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(len(totals), 1)
    bars = []
    for index, day in enumerate(totals):
        x = LEFT + index * slot
        y = baseline
        segments = []
        for series in SERIES:
            height = plot_height * day[series] / top
            y -= height
            if day[series]:
                segments.append({"series": series, "y": round(y, 1), "height": round(height, 1)})
        total = sum(day[s] for s in SERIES)
        # A label a week, counted back from today, so that today always has one.
        weekly = (len(totals) - 1 - index) % 7 == 0
        bars.append(
            {
                "x": round(x + GAP / 2, 1),
                "width": round(slot - GAP, 1),
                "middle": round(x + slot / 2, 1),
                "top": round(y, 1),
                "segments": segments,
                "day": day["day"],
                "total": total,
                "date_label": day["day"].strftime("%b %-d") if weekly else "",
                "label": ", ".join(f"{day[s]} {s}" for s in SERIES),
            }
        )
    ticks = [
        {"value": value, "y": round(baseline - plot_height * value / top, 1)}
        for value in sorted({0, top // 2, top})
        if value == 0 or value * 2 == top or value == top
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": baseline,
        "bars": bars,
        "ticks": ticks,
        "series": SERIES,
        "days": totals,
    }
