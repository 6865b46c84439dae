"""The "measured outcome" of a trial, worked out from the patient's rating-scale scores.

Pure Python, no Django: scores are plain objects with ``scale``, ``date`` and ``total``
(``ScaleScore`` instances or :class:`Score`). The recorded outcome stays the clinician's:
this only shows what the scores say, next to it, so that a disagreement can be discussed.
The TRD rule (trd.py) keeps using the recorded outcome.

Decisions (the clinical reference leaves these to the product):

1. **Baseline** of a scale: its last score dated on or before the trial's start and no more
   than ``BASELINE_WINDOW_DAYS`` (14) days before it. A score 15 days before does not count.
2. **End score**: the scale's last score dated on or before the trial's end date (or the
   as-of date while the trial is ongoing, or when the as-of date is earlier), and strictly
   after the baseline's date. Scores after the end are ignored.
3. **Which scale** when several have both a baseline and an end score: HAM-D-17, then MADRS,
   then PHQ-9 (``SCALE_PREFERENCE``) — the clinician-rated scales first; the source document
   "Understanding and Managing TRD in the U.S." names the HDRS. A scale without both scores
   is skipped, so a PHQ-9 pair is used when it is the only complete pair.
4. **Reduction** = (baseline − end) / baseline, compared exactly (integer arithmetic, no
   rounding). A baseline of 0 has no computable reduction: that scale
   gives no measured outcome (the next preferred scale may).
5. **Categories** (reference §3b): ≥ 50 % → response; 25–49 % → partial response;
   < 25 % (including a worse score) → no response. **Remission** takes precedence over
   response only when both apply: the end score meets the scale's remission threshold
   (PHQ-9 < 5, HAM-D-17 ≤ 7, MADRS ≤ 10) *and* the reduction is ≥ 50 %. An end score under
   the threshold after a small reduction (a patient who started mild) stays in its % band.
6. **Disagreement** is flagged only when the recorded outcome is itself a response category
   (response, remission, partial response, no response) and differs. "Ongoing", "unknown"
   and "intolerance" do not disagree with a measurement; the page still offers to use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from . import scales

BASELINE_WINDOW_DAYS = 14
SCALE_PREFERENCE = (scales.HAMD17, scales.MADRS, scales.PHQ9)

RESPONSE = "response"
REMISSION = "remission"
PARTIAL_RESPONSE = "partial_response"
NO_RESPONSE = "no_response"
RESPONSE_CATEGORIES = frozenset({RESPONSE, REMISSION, PARTIAL_RESPONSE, NO_RESPONSE})
LABELS = {RESPONSE: "Response", REMISSION: "Remission", PARTIAL_RESPONSE: "Partial response",
          NO_RESPONSE: "No response"}


@dataclass(frozen=True)
class Score:
    scale: str
    date: date
    total: int


@dataclass(frozen=True)
class MeasuredOutcome:
    outcome: str
    scale: str
    baseline: Score
    end: Score

    @property
    def label(self) -> str:
        return LABELS[self.outcome]

    @property
    def reduction_percent(self) -> float:
        return round(100 * (self.baseline.total - self.end.total) / self.baseline.total, 1)

    @property
    def short(self) -> str:
        name = scales.SCALES[self.scale].name
        return f"{name} {self.baseline.total} → {self.end.total} ({self.reduction_percent:g}% lower)"

    @property
    def summary(self) -> str:
        name = scales.SCALES[self.scale].name
        return (
            f"{name} {self.baseline.total} ({self.baseline.date:%Y-%m-%d}) → "
            f"{self.end.total} ({self.end.date:%Y-%m-%d}): {self.reduction_percent:g}% reduction"
        )


def classify(scale: str, baseline: int, end: int) -> str | None:
    """The outcome category of a change from `baseline` to `end`; None when baseline is 0."""
    if baseline <= 0:
        return None
    drop = baseline - end
    if 2 * drop >= baseline:
        return REMISSION if scales.in_remission(scale, end) else RESPONSE
    if 4 * drop >= baseline:
        return PARTIAL_RESPONSE
    return NO_RESPONSE


def measured_outcome(
    scores: Iterable, *, start: date, end: date | None, as_of: date
) -> MeasuredOutcome | None:
    """The measured outcome of a trial running from `start` to `end` (None: ongoing)."""
    last_day = min(end, as_of) if end else as_of
    by_scale: dict[str, list] = {}
    for score in scores:
        if score.date <= last_day:
            by_scale.setdefault(score.scale, []).append(score)
    for scale in SCALE_PREFERENCE:
        ordered = sorted(by_scale.get(scale, ()), key=lambda s: s.date)
        window = [
            s for s in ordered
            if start - timedelta(days=BASELINE_WINDOW_DAYS) <= s.date <= start
        ]
        if not window:
            continue
        baseline = window[-1]
        later = [s for s in ordered if s.date > baseline.date]
        if not later:
            continue
        final = later[-1]
        outcome = classify(scale, baseline.total, final.total)
        if outcome is None:
            continue
        return MeasuredOutcome(
            outcome=outcome,
            scale=scale,
            baseline=Score(scale, baseline.date, baseline.total),
            end=Score(scale, final.date, final.total),
        )
    return None


def disagrees(recorded: str, measured: MeasuredOutcome | None) -> bool:
    """True when the recorded outcome is a response category other than the measured one."""
    return (
        measured is not None
        and recorded in RESPONSE_CATEGORIES
        and recorded != measured.outcome
    )
