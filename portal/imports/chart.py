"""A stacked bar chart of imported, skipped and failed orders per day, drawn as SVG geometry."""

SERIES = ("imported", "skipped", "failed")
WIDTH, HEIGHT, GAP = 600, 120, 2


def bar_chart(totals: list[dict]) -> dict:
    """Bar positions for the template: one stacked bar per day, scaled to the busiest day."""
    peak = max((sum(day[s] for s in SERIES) for day in totals), default=0) or 1
    slot = WIDTH / max(len(totals), 1)
    bars = []
    for index, day in enumerate(totals):
        y = HEIGHT
        segments = []
        for series in SERIES:
            height = HEIGHT * day[series] / peak
            y -= height
            if day[series]:
                segments.append({"series": series, "y": round(y, 1), "height": round(height, 1)})
        bars.append(
            {
                "x": round(index * slot + GAP / 2, 1),
                "width": round(slot - GAP, 1),
                "day": day["day"],
                "segments": segments,
                "label": ", ".join(f"{day[s]} {s}" for s in SERIES),
            }
        )
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "peak": peak, "series": SERIES}
