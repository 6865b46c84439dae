"""The "measured outcome" of a trial, worked out from the patient's rating-scale scores.

Pure Python, no Django: scores are plain objects with ``scale``, ``date`` and ``total``
(``ScaleScore`` instances or :class:`Score`). The recorded outcome stays the clinician's:
this only shows what the scores say, next to it, so that a disagreement can be discussed.
The TRD rule (trd.py) keeps using the recorded outcome.

Decisions (the clinical reference leaves these to the product):

1. **Baseline** of a scale: its last score dated on or before the trial's start and no more
   than ``BASELINE_WINDOW_DAYS`` (14) days before it. A score 15 days before does not count.
2. **End score**: the scale's last score dated on or before the trial's end date (or the
   as-of date while the trial is ongoing, or when the as-of date is earlier: nothing after the
   as-of date counts, as in trd.py clause (a)), and strictly after the baseline's date.
3. **Which scale** when several have both a baseline and an end score: the one whose end score
   is the latest; on the same day, HAM-D-17, then MADRS, then PHQ-9 (``SCALE_PREFERENCE``:
   the clinician-rated scales first; the source document "Understanding and Managing TRD in
   the U.S." names the HDRS). A scale without both scores is skipped.
4. **Too early**: no measured outcome until that end score is at least ``MIN_MEASURED_DAYS``
   (28) days after the trial's start; before that the result says "too early (day N of 28)",
   N being the end score's day of the trial.
5. **Remission** when the end score meets the scale's remission threshold (PHQ-9 < 5,
   HAM-D-17 <= 7, MADRS <= 10; scales.py keeps them with their sources), whatever the
   reduction: remission is defined by the end score alone.
6. Otherwise the **reduction** = (baseline − end) / baseline, compared exactly (integer
   arithmetic, no rounding), gives the band (reference §3b): ≥ 50 % → response; 25–49 % →
   partial response; < 25 % (including a worse score) → no response. A baseline of 0 has no
   computable reduction: that scale gives no measured outcome (the next one may).
7. **Disagreement** is flagged only when the recorded outcome is itself a response category
   (response, remission, partial response, no response) and differs. "Ongoing", "unknown"
   and "intolerance" do not disagree with a measurement; the page still offers to use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from . import scales
from .trd import NO_RESPONSE, OUTCOME_LABELS, PARTIAL_RESPONSE, REMISSION, RESPONSE

BASELINE_WINDOW_DAYS = 14
MIN_MEASURED_DAYS = 28  # from the trial's start to the end score
RESPONSE_DROP_PERCENT = 50  # a reduction of at least this much is a response
PARTIAL_DROP_PERCENT = 25  # at least this much (and under a response) is a partial response
SCALE_PREFERENCE = (scales.HAMD17, scales.MADRS, scales.PHQ9)

# The categories are recorded outcomes (trd.py keeps them and their words).
RESPONSE_CATEGORIES = frozenset({RESPONSE, REMISSION, PARTIAL_RESPONSE, NO_RESPONSE})
LABELS = {
    outcome: OUTCOME_LABELS[outcome]
    for outcome in (RESPONSE, REMISSION, PARTIAL_RESPONSE, NO_RESPONSE)
}

# Why a trial has, or has not, a measured outcome (Measurement.status).
MEASURED = "measured"
TOO_EARLY = "too_early"
NO_SCORES = "no_scores"  # no scale with a baseline and a later end score


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
        return (
            f"{name} {self.baseline.total} → {self.end.total} ({self.reduction_percent:g}% lower)"
        )

    @property
    def summary(self) -> str:
        name = scales.SCALES[self.scale].name
        return (
            f"{name} {self.baseline.total} ({self.baseline.date:%Y-%m-%d}) → "
            f"{self.end.total} ({self.end.date:%Y-%m-%d}): {self.reduction_percent:g}% reduction"
        )


def classify(scale: str, baseline: int, end: int) -> str | None:
    """The outcome category of a change from `baseline` to `end`.

    Remission whenever `end` meets the scale's threshold; otherwise the reduction's band, or
    None when the baseline is 0 (no reduction can be computed).
    """
    if scales.in_remission(scale, end):
        return REMISSION
    if baseline <= 0:
        return None
    drop = baseline - end  # in integers: no rounding at the band edges
    if 100 * drop >= RESPONSE_DROP_PERCENT * baseline:
        return RESPONSE
    if 100 * drop >= PARTIAL_DROP_PERCENT * baseline:
        return PARTIAL_RESPONSE
    return NO_RESPONSE


@dataclass(frozen=True)
class Measurement:
    """What the scores say about a trial, or why they say nothing yet."""

    status: str  # MEASURED | TOO_EARLY | NO_SCORES
    outcome: MeasuredOutcome | None = None  # set when MEASURED
    day: int | None = None  # TOO_EARLY: the end score's day of the trial

    @property
    def too_early(self) -> bool:
        return self.status == TOO_EARLY

    @property
    def explanation(self) -> str:
        if self.status == TOO_EARLY:
            return f"too early (day {self.day} of {MIN_MEASURED_DAYS})"
        if self.status == NO_SCORES:
            return "no baseline and end scores"
        return self.outcome.summary


def _pairs(scores: Iterable, start: date, last_day: date):
    """(scale, baseline, end score) for each scale with both, latest end score first."""
    by_scale: dict[str, list] = {}
    for score in scores:
        if score.date <= last_day:
            by_scale.setdefault(score.scale, []).append(score)
    pairs = []
    for scale in SCALE_PREFERENCE:
        ordered = sorted(by_scale.get(scale, ()), key=lambda s: s.date)
        window = [
            s for s in ordered if start - timedelta(days=BASELINE_WINDOW_DAYS) <= s.date <= start
        ]
        if not window:
            continue
        baseline = window[-1]
        later = [s for s in ordered if s.date > baseline.date]
        if later:
            pairs.append((scale, baseline, later[-1]))
    # Latest end score first; sorted() is stable, so a tie keeps SCALE_PREFERENCE's order.
    return sorted(pairs, key=lambda pair: pair[2].date, reverse=True)


def measure(scores: Iterable, *, start: date, end: date | None, as_of: date) -> Measurement:
    """What the scores say about a trial running from `start` to `end` (None: ongoing)."""
    last_day = min(end, as_of) if end else as_of
    for scale, baseline, final in _pairs(scores, start, last_day):
        day = (final.date - start).days
        if day < MIN_MEASURED_DAYS:
            # The latest end score is too early, so every other one is too.
            return Measurement(TOO_EARLY, day=day)
        outcome = classify(scale, baseline.total, final.total)
        if outcome is None:
            continue
        return Measurement(
            MEASURED,
            MeasuredOutcome(
                outcome=outcome,
                scale=scale,
                baseline=Score(scale, baseline.date, baseline.total),
                end=Score(scale, final.date, final.total),
            ),
        )
    return Measurement(NO_SCORES)


def measured_outcome(
    scores: Iterable, *, start: date, end: date | None, as_of: date
) -> MeasuredOutcome | None:
    """The measured outcome of a trial, or None (too early, or no scores: see `measure`)."""
    return measure(scores, start=start, end=end, as_of=as_of).outcome


def disagrees(recorded: str, measured: MeasuredOutcome | None) -> bool:
    """True when the recorded outcome is a response category other than the measured one."""
    return measured is not None and recorded in RESPONSE_CATEGORIES and recorded != measured.outcome
