"""The "two adequate trials" rule for treatment-resistant depression (TRD).

Pure Python, no Django: the ORM layer converts model instances into the frozen
dataclasses below and calls :func:`evaluate`. Everything here is deterministic
and depends only on its arguments (no ``date.today()``).

The rule, evaluated for one patient as of a date:

1. A trial runs from its start date to its end date, or to the as-of date while it
   has no end date. Trials starting after the as-of date are ignored.
2. The dose is the starting dose from the start date, then each dose change's dose
   from that change's date on. Days at adequate dose are the calendar days on which
   the dose was at or above the drug's minimum adequate dose.
3. A trial is adequate when the drug is an antidepressant, it has at least
   ``MIN_ADEQUATE_DAYS`` days at an adequate dose and adherence is not poor.
4. A trial counts toward TRD when it is adequate, its outcome is in
   ``COUNTING_OUTCOMES`` and (with an episode start) it ended on or after the
   start of the current episode.
5. The patient meets TRD when the counting trials cover at least
   ``MIN_FAILED_TRIALS`` different drugs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

MIN_ADEQUATE_WEEKS = 6
MIN_ADEQUATE_DAYS = MIN_ADEQUATE_WEEKS * 7  # 42
MIN_FAILED_TRIALS = 2  # different drugs required
COUNTING_OUTCOMES = frozenset({"no_response", "partial_response"})

POOR_ADHERENCE = "poor"

__all__ = [
    "COUNTING_OUTCOMES",
    "MIN_ADEQUATE_DAYS",
    "MIN_ADEQUATE_WEEKS",
    "MIN_FAILED_TRIALS",
    "DoseChange",
    "DoseSegment",
    "DrugFacts",
    "TrdEvaluation",
    "TrialEvaluation",
    "TrialFacts",
    "count_on",
    "count_steps",
    "evaluate",
    "evaluate_trial",
    "first_day_with",
    "format_dose",
    "steps_from_stored",
    "steps_to_stored",
]


@dataclass(frozen=True)
class DrugFacts:
    name: str  # generic, lower case, e.g. "sertraline"
    drug_class: str  # e.g. "SSRI", "Mood stabiliser"
    is_antidepressant: bool
    min_adequate_dose_mg: Decimal | None
    is_augmentation_agent: bool = False  # lithium, antipsychotics, liothyronine...


@dataclass(frozen=True)
class DoseChange:
    date: date
    dose_mg: Decimal


@dataclass(frozen=True)
class TrialFacts:
    id: int | None
    drug: DrugFacts
    start_date: date
    end_date: date | None  # None while ongoing
    dose_mg: Decimal  # starting daily dose
    dose_changes: tuple[DoseChange, ...] = ()
    adherence: str = "unknown"  # good | partial | poor | unknown
    # response | remission | partial_response | no_response | intolerance | ongoing | unknown
    outcome: str = "unknown"


@dataclass(frozen=True)
class DoseSegment:
    """One constant-dose stretch of a trial, ``[start, end)``, for the timeline chart."""

    start: date
    end: date
    dose_mg: Decimal
    adequate: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class TrialEvaluation:
    trial: TrialFacts
    end: date  # the date the trial runs to
    segments: tuple[DoseSegment, ...]
    days_at_adequate_dose: int
    adequate: bool
    counts_toward_trd: bool
    reasons: tuple[str, ...]  # empty when the trial counts


@dataclass(frozen=True)
class TrdEvaluation:
    as_of: date
    meets_trd: bool
    failed_adequate_trial_count: int  # number of DISTINCT drugs among counting trials
    counting_drugs: tuple[str, ...]  # sorted distinct drug names that count
    trials: tuple[TrialEvaluation, ...]  # trials considered, ordered by (start_date, id)
    summary: str  # one plain-language sentence


def format_dose(value: Decimal | int | float) -> str:
    """Format a dose without trailing zeros or exponent: 25, 37.5, 0.025, 100."""
    dec = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(dec.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def _trial_end(trial: TrialFacts, as_of: date) -> date:
    return trial.end_date if trial.end_date is not None else as_of


def _is_adequate_dose(dose: Decimal, minimum: Decimal | None) -> bool:
    return minimum is not None and dose >= minimum


def _segments(trial: TrialFacts, end: date) -> tuple[tuple[DoseSegment, ...], Decimal]:
    """Split the trial's run into constant-dose segments.

    Returns the non-empty segments and the dose in effect on the start date (the
    starting dose, or a change dated on/before the start date that replaces it).
    """
    minimum = trial.drug.min_adequate_dose_mg
    # (effective date, dose); changes on or before the start date replace the
    # starting dose. sorted() is stable, so same-day changes keep input order and
    # the last one wins.
    points: list[tuple[date, Decimal]] = [(trial.start_date, trial.dose_mg)]
    for change in sorted(trial.dose_changes, key=lambda c: c.date):
        points.append((max(change.date, trial.start_date), change.dose_mg))

    start_dose = trial.dose_mg
    for when, dose in points:
        if when == trial.start_date:
            start_dose = dose

    segments: list[DoseSegment] = []
    for index, (seg_start, dose) in enumerate(points):
        seg_end = points[index + 1][0] if index + 1 < len(points) else end
        seg_end = min(seg_end, end)
        if seg_end <= seg_start:
            continue  # zero-length (superseded, or on/after the trial's end)
        segments.append(
            DoseSegment(
                start=seg_start,
                end=seg_end,
                dose_mg=dose,
                adequate=_is_adequate_dose(dose, minimum),
            )
        )
    return tuple(segments), start_dose


def _outcome_label(outcome: str) -> str:
    return outcome.replace("_", " ")


def evaluate_trial(
    trial: TrialFacts, *, as_of: date, episode_start: date | None = None
) -> TrialEvaluation:
    """Evaluate one trial as of ``as_of`` (see the module docstring for the rule)."""
    drug = trial.drug
    end = _trial_end(trial, as_of)
    segments, start_dose = _segments(trial, end)
    days = sum(seg.days for seg in segments if seg.adequate)

    enough_days = days >= MIN_ADEQUATE_DAYS
    poor_adherence = trial.adherence == POOR_ADHERENCE
    adequate = drug.is_antidepressant and enough_days and not poor_adherence
    outcome_counts = trial.outcome in COUNTING_OUTCOMES
    in_episode = episode_start is None or end >= episode_start
    counts = adequate and outcome_counts and in_episode

    reasons: list[str] = []
    if not counts:
        if not drug.is_antidepressant:
            if drug.is_augmentation_agent:
                reasons.append(f"{drug.name} is an augmentation agent, not an antidepressant")
            else:
                reasons.append(f"{drug.name} is not an antidepressant")
        else:
            if not enough_days:
                reasons.append(_dose_reason(trial, segments, start_dose, days))
            if poor_adherence:
                reasons.append("adherence recorded as poor")
            if not outcome_counts:
                reasons.append(f"outcome: {_outcome_label(trial.outcome)}")
            if episode_start is not None and not in_episode:
                reasons.append(
                    f"before the current episode (ended {end.isoformat()}, "
                    f"episode began {episode_start.isoformat()})"
                )

    return TrialEvaluation(
        trial=trial,
        end=end,
        segments=segments,
        days_at_adequate_dose=days,
        adequate=adequate,
        counts_toward_trd=counts,
        reasons=tuple(reasons),
    )


def _dose_reason(
    trial: TrialFacts,
    segments: tuple[DoseSegment, ...],
    start_dose: Decimal,
    days: int,
) -> str:
    drug = trial.drug
    minimum = drug.min_adequate_dose_mg
    if minimum is None:
        return f"no minimum adequate dose is recorded for {drug.name}"
    highest = max((seg.dose_mg for seg in segments), default=start_dose)
    if highest < minimum:
        return (
            f"dose {format_dose(highest)} mg/day is below the adequate "
            f"{format_dose(minimum)} mg/day for {drug.name}"
        )
    return f"only {days} of the {MIN_ADEQUATE_DAYS} required days at an adequate dose"


def _order_key(trial: TrialFacts) -> tuple[date, bool, int]:
    # Unsaved trials (id None) sort after saved ones on the same start date.
    return (trial.start_date, trial.id is None, trial.id or 0)


def _summary(counting_drugs: tuple[str, ...]) -> str:
    count = len(counting_drugs)
    if count >= MIN_FAILED_TRIALS:
        return (
            f"Meets TRD: adequate trials of {count} different antidepressants failed "
            f"({', '.join(counting_drugs)})."
        )
    return (
        f"Does not meet TRD: {count} of the {MIN_FAILED_TRIALS} required different "
        "antidepressants failed after an adequate trial."
    )


def evaluate(
    trials: Iterable[TrialFacts], *, as_of: date, episode_start: date | None = None
) -> TrdEvaluation:
    """Evaluate a patient's trials as of ``as_of``; trials starting later are ignored."""
    considered = sorted((t for t in trials if t.start_date <= as_of), key=_order_key)
    evaluations = tuple(
        evaluate_trial(t, as_of=as_of, episode_start=episode_start) for t in considered
    )
    counting_drugs = tuple(
        sorted({ev.trial.drug.name for ev in evaluations if ev.counts_toward_trd})
    )
    return TrdEvaluation(
        as_of=as_of,
        meets_trd=len(counting_drugs) >= MIN_FAILED_TRIALS,
        failed_adequate_trial_count=len(counting_drugs),
        counting_drugs=counting_drugs,
        trials=evaluations,
        summary=_summary(counting_drugs),
    )


# How long ahead the stored summary looks for open trials crossing the threshold (ten years).
HORIZON_DAYS = 3653


def count_steps(
    trials: Iterable[TrialFacts],
    *,
    since: date,
    episode_start: date | None = None,
    horizon_days: int = HORIZON_DAYS,
) -> tuple[tuple[date, int], ...]:
    """How the failed-adequate-trial count grows as days pass with this history.

    ``((since, n0), (d1, n1), ...)``: the count on ``since``, then each later day on which it
    rises (an open trial reaches ``MIN_ADEQUATE_DAYS`` at an adequate dose, or a trial dated in
    the future begins), up to ``horizon_days`` ahead. With the history fixed the count never
    falls as days pass (days at adequate dose only accumulate, and trials only join), so each
    rise is found by bisection. Stored with the patient, it lets lists tell the status on any
    day in SQL without re-evaluating (and so without writing) on read.
    """
    trials = tuple(trials)

    def count(day: date) -> int:
        return evaluate(trials, as_of=day, episode_start=episode_start).failed_adequate_trial_count

    steps = [(since, count(since))]
    last_day = since + timedelta(days=horizon_days)
    final = count(last_day)
    while steps[-1][1] < final:
        low, low_count = steps[-1]
        high = last_day
        while (high - low).days > 1:
            middle = low + timedelta(days=(high - low).days // 2)
            if count(middle) > low_count:
                high = middle
            else:
                low = middle
        steps.append((high, count(high)))
    return tuple(steps)


def first_day_with(steps: tuple[tuple[date, int], ...], at_least: int) -> date | None:
    """The first day of ``steps`` on which the count is at least ``at_least``."""
    return next((day for day, count in steps if count >= at_least), None)


def steps_to_stored(steps) -> list[list]:
    """The steps as JSON keeps them (Patient.trd_count_steps): [["YYYY-MM-DD", count], ...]."""
    return [[day.isoformat(), count] for day, count in steps]


def steps_from_stored(stored) -> tuple[tuple[date, int], ...]:
    return tuple((date.fromisoformat(day), count) for day, count in stored)


def count_on(steps, day: date) -> int:
    """The count on ``day`` (the first step's count for a day before it)."""
    current = steps[0][1] if steps else 0
    for step_day, count in steps:
        if step_day > day:
            break
        current = count
    return current
