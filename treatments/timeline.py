"""Geometry of the patient timeline chart, as plain data for an inline SVG.

Pure: takes the TRD evaluation, the therapies and the rating-scale scores, returns rows
of rectangles and, under them on the same time axis, one lane per scale with its
severity bands shaded and its scores as a line. All in pixel units: the template only
draws what this computes, so the chart needs no JavaScript, no CDN, and prints as it
shows.

The cached HTML of the patient page's chart is patients.page_rows.rendered_timeline.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from . import scales as scale_specs
from .trd import TrdEvaluation, format_dose

WIDTH = 960
LABEL_WIDTH = 200
ROW_HEIGHT = 34
BAR_HEIGHT = 24
AXIS_HEIGHT = 28
TOP = 8
MIN_STEP_FRACTION = 0.3
LANE_HEIGHT = 90  # the plot area of one scale's lane
LANE_GAP = 14
RIGHT_MARGIN = 10
BAND_LABEL_WIDTH = 100  # right of the chart, for the band names, when there are scores


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    label: str = ""


@dataclass(frozen=True)
class Row:
    label: str
    sublabel: str
    y: float
    outline: Rect
    steps: tuple[Rect, ...] = ()
    counts: bool = False


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str
    label: str


@dataclass(frozen=True)
class Lane:
    """One rating scale under the trial bars: shaded severity bands and a line of scores."""

    scale: str
    label: str
    sublabel: str
    y: float
    height: float
    bands: tuple[Rect, ...]
    points: tuple[Point, ...]
    band_label_x: float = 0

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


@dataclass
class Timeline:
    width: int = WIDTH
    height: int = 0
    rows: list[Row] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    today_x: float | None = None
    chart_left: int = LABEL_WIDTH
    axis_y: float = 0
    lanes: list[Lane] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rows and not self.lanes


def build_timeline(
    evaluation: TrdEvaluation, therapies, scores=(), *, width: int = WIDTH
) -> Timeline:
    """`scores` are objects with `scale`, `date` and `total`; those after as-of are left out."""
    as_of = evaluation.as_of
    scores = [s for s in scores if s.date <= as_of and s.scale in scale_specs.SCALES]
    spans = [(t.trial.start_date, t.end) for t in evaluation.trials]
    spans += [(th.start_date, th.end_date or as_of) for th in therapies if th.start_date <= as_of]
    spans += [(s.date, s.date) for s in scores]
    if not spans:
        return Timeline(width=width, height=0)
    first = min(start for start, _ in spans) - timedelta(days=7)
    last = max(max(end for _, end in spans), as_of) + timedelta(days=7)
    total_days = max((last - first).days, 1)
    chart_width = width - LABEL_WIDTH - (BAND_LABEL_WIDTH if scores else RIGHT_MARGIN)

    def x_of(day: date) -> float:
        return round(LABEL_WIDTH + chart_width * (day - first).days / total_days, 1)

    rows: list[Row] = []
    for index, trial_eval in enumerate(evaluation.trials):
        trial = trial_eval.trial
        y = TOP + index * ROW_HEIGHT
        highest = max((seg.dose_mg for seg in trial_eval.segments), default=trial.dose_mg)
        steps = []
        for seg in trial_eval.segments:
            fraction = max(float(seg.dose_mg / highest), MIN_STEP_FRACTION) if highest else 1
            height = round(BAR_HEIGHT * fraction, 1)
            steps.append(
                Rect(
                    x=x_of(seg.start),
                    y=y + BAR_HEIGHT - height,
                    width=max(x_of(seg.end) - x_of(seg.start), 1),
                    height=height,
                    css="dose-adequate" if seg.adequate else "dose-low",
                    title=(
                        f"{trial.drug.name} {format_dose(seg.dose_mg)} mg/day, "
                        f"{seg.start:%Y-%m-%d} to {seg.end:%Y-%m-%d}"
                        + ("" if seg.adequate else " (below the adequate dose)")
                    ),
                    label=format_dose(seg.dose_mg),
                )
            )
        status = (
            "counts toward TRD"
            if trial_eval.counts_toward_trd
            else "adequate"
            if trial_eval.adequate
            else "not adequate"
        )
        rows.append(
            Row(
                label=trial.drug.name,
                sublabel=status,
                y=y,
                counts=trial_eval.counts_toward_trd,
                outline=Rect(
                    x=x_of(trial.start_date),
                    y=y,
                    width=max(x_of(trial_eval.end) - x_of(trial.start_date), 2),
                    height=BAR_HEIGHT,
                    css="trial counts" if trial_eval.counts_toward_trd else "trial",
                    title=(
                        f"{trial.drug.name}: {trial.start_date:%Y-%m-%d} to "
                        f"{'ongoing' if trial.end_date is None else trial.end_date}; "
                        f"{trial_eval.days_at_adequate_dose} days at an adequate dose; {status}"
                    ),
                ),
                steps=tuple(steps),
            )
        )
    for therapy in therapies:
        if therapy.start_date > as_of:
            continue
        y = TOP + len(rows) * ROW_HEIGHT
        end = therapy.end_date or as_of
        rows.append(
            Row(
                label=therapy.get_kind_display().split(" (")[0],
                sublabel=therapy.detail or "therapy",
                y=y,
                outline=Rect(
                    x=x_of(therapy.start_date),
                    y=y,
                    width=max(x_of(end) - x_of(therapy.start_date), 2),
                    height=BAR_HEIGHT,
                    css="therapy",
                    title=(
                        f"{therapy.get_kind_display()}: {therapy.start_date:%Y-%m-%d} to "
                        f"{'ongoing' if therapy.end_date is None else therapy.end_date}"
                    ),
                ),
            )
        )
    lanes = []
    lane_y = TOP + len(rows) * ROW_HEIGHT + (LANE_GAP if rows else 0)
    for code in scale_specs.SCALES:
        lane_scores = sorted((s for s in scores if s.scale == code), key=lambda s: s.date)
        if not lane_scores:
            continue
        lanes.append(_lane(code, lane_scores, lane_y, x_of, chart_width))
        lane_y += LANE_HEIGHT + LANE_GAP
    axis_y = (lane_y - LANE_GAP if lanes else TOP + len(rows) * ROW_HEIGHT) + 4
    return Timeline(
        width=width,
        height=int(axis_y + AXIS_HEIGHT),
        rows=rows,
        ticks=[Tick(x=x_of(day), label=label) for day, label in _ticks(first, last)],
        today_x=x_of(as_of),
        axis_y=axis_y,
        lanes=lanes,
    )


def _lane(code: str, lane_scores, y: float, x_of, chart_width: float) -> Lane:
    """Higher scores (more severe) are higher up; each band spans its scores' range."""
    spec = scale_specs.SCALES[code]

    def y_of(total: float) -> float:
        return round(y + LANE_HEIGHT * (1 - total / spec.max_total), 1)

    bands = []
    for index, band in enumerate(spec.bands):
        top = y_of(min(band.high + 1, spec.max_total))
        bands.append(
            Rect(
                x=LABEL_WIDTH,
                y=top,
                width=chart_width,
                height=round(y_of(band.low) - top, 1),
                css=f"band band-{index}",
                title=f"{spec.name} {band.low}–{band.high}: {band.label}",
                label=band.label,
            )
        )
    points = tuple(
        Point(
            x=x_of(score.date),
            y=y_of(score.total),
            title=(
                f"{spec.name} {score.total} on {score.date:%Y-%m-%d} "
                f"({scale_specs.band(code, score.total)})"
            ),
            label=str(score.total),
        )
        for score in lane_scores
    )
    return Lane(
        scale=code,
        label=spec.name,
        sublabel=f"0–{spec.max_total}, higher is worse",
        y=y,
        height=LANE_HEIGHT,
        bands=tuple(bands),
        points=points,
        band_label_x=LABEL_WIDTH + chart_width + 4,
    )


def _ticks(first: date, last: date, most: int = 8) -> list[tuple[date, str]]:
    """First-of-month ticks, thinned to at most `most`, labelled by month or year."""
    months = []
    day = date(first.year, first.month, 1)
    while day <= last:
        if day >= first:
            months.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    if not months:
        return [(first, f"{first:%b %Y}")]
    for step in (1, 2, 3, 6, 12, 24, 60):
        if len(months) / step <= most:
            break
    chosen = [m for m in months if ((m.year * 12 + m.month - 1) % step) == 0] or months[:1]
    fmt = "%Y" if step >= 12 else "%b %Y"
    return [(m, m.strftime(fmt)) for m in chosen]
