"""The "two adequate trials" rule for treatment-resistant depression (TRD).

Pure Python, no Django: the ORM layer converts model instances into the named tuples
below and calls :func:`evaluate`. Everything here is deterministic
and depends only on its arguments (no ``date.today()``).

The rule, evaluated for one patient as of a date. It is causal: nothing dated after the
as-of date changes the answer for that date.

1. (a) A trial runs from its start date to the earlier of its end date and the as-of date:
   days after the as-of date never count. Trials starting after the as-of date are ignored.
   A trial without an end date, or ending after the as-of date, is *ongoing* as of that date
   (its reasons say "ongoing", never "ended").
2. (c) The dose is the starting dose from the start date, then each dose change's dose from
   that change's date on. A change dated on the start date replaces the starting dose; a
   change dated before the start is ignored (the starting dose stands until the first change
   on or after the start). Days at adequate dose are the calendar days ``[start, end)`` on
   which the dose was at or above the drug's minimum adequate dose.
3. A trial is adequate when the drug is an antidepressant, it has at least
   ``MIN_ADEQUATE_DAYS`` days at an adequate dose and adherence is not poor.
4. (b) A trial counts toward TRD when it is adequate, its recorded outcome is in
   ``COUNTING_OUTCOMES`` and, with an episode start, at least ``MIN_ADEQUATE_DAYS`` of its
   days at an adequate dose fall on or after the start of the current episode (without an
   episode start every trial is considered). A trial ending on the episode's first day has
   none of its days in the episode.
5. The patient meets TRD when the counting trials cover at least
   ``MIN_FAILED_TRIALS`` different drugs.
6. Two counting trials of different drugs that were both at an adequate dose on the same
   days for at least ``COMBINATION_NOTE_DAYS`` days each carry a note naming the other: some
   definitions count such a combination as one trial. The note informs; the count (5) is
   unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

MIN_ADEQUATE_WEEKS = 6
MIN_ADEQUATE_DAYS = MIN_ADEQUATE_WEEKS * 7  # 42
MIN_FAILED_TRIALS = 2  # different drugs required
COMBINATION_NOTE_DAYS = 28  # days both at an adequate dose before the combination is noted

# A trial's recorded outcomes, with the words pages and files show for them: the model's
# choices (treatments.models.Outcome), measured.py's categories and the rule read them here.
RESPONSE = "response"
REMISSION = "remission"
PARTIAL_RESPONSE = "partial_response"
NO_RESPONSE = "no_response"
INTOLERANCE = "intolerance"
ONGOING = "ongoing"
UNKNOWN_OUTCOME = "unknown"
OUTCOME_LABELS = {
    RESPONSE: "Response",
    REMISSION: "Remission",
    PARTIAL_RESPONSE: "Partial response",
    NO_RESPONSE: "No response",
    INTOLERANCE: "Intolerance",
    ONGOING: "Ongoing",
    UNKNOWN_OUTCOME: "Unknown",
}
COUNTING_OUTCOMES = frozenset({NO_RESPONSE, PARTIAL_RESPONSE})

POOR_ADHERENCE = "poor"

# The TRD status: the values the filters take (the patient list's, the exports' trd_status,
# the dashboard's links) and the words every page, sheet and file shows for it.
MEETS = "meets"
NOT_MET = "not_met"
ONE_FAILED = "one_failed"
STATUS_LABELS = {
    MEETS: "Meets TRD",
    NOT_MET: "Does not meet TRD",
    ONE_FAILED: "One adequate failed trial",
}
VERDICTS = {True: "Meets the TRD definition", False: "Does not meet the TRD definition"}

__all__ = [
    "COMBINATION_NOTE_DAYS",
    "COUNTING_OUTCOMES",
    "MEETS",
    "MIN_ADEQUATE_DAYS",
    "MIN_ADEQUATE_WEEKS",
    "MIN_FAILED_TRIALS",
    "NOT_MET",
    "ONE_FAILED",
    "OUTCOME_LABELS",
    "STATUS_LABELS",
    "VERDICTS",
    "DoseChange",
    "DoseSegment",
    "DrugFacts",
    "TrdEvaluation",
    "TrialEvaluation",
    "TrialFacts",
    "count_on",
    "evaluate",
    "evaluate_trial",
    "first_day_with",
    "format_dose",
    "steps_from_stored",
    "status_label",
    "steps_to_stored",
]


# Named tuples, not dataclasses: the exports build one TrialFacts and one TrialEvaluation per
# trial, and a frozen dataclass costs two to three times as much to construct. Immutable all the
# same; note that a named tuple also equals a plain tuple of the same values.
class DrugFacts(NamedTuple):
    name: str  # generic, lower case, e.g. "sertraline"
    drug_class: str  # e.g. "SSRI", "Mood stabiliser"
    is_antidepressant: bool
    min_adequate_dose_mg: Decimal | None
    is_augmentation_agent: bool = False  # lithium, antipsychotics, liothyronine...


class DoseChange(NamedTuple):
    date: date
    dose_mg: Decimal


class TrialFacts(NamedTuple):
    id: int | None
    drug: DrugFacts
    start_date: date
    end_date: date | None  # None while ongoing
    dose_mg: Decimal  # starting daily dose
    dose_changes: tuple[DoseChange, ...] = ()
    adherence: str = "unknown"  # good | partial | poor | unknown
    outcome: str = UNKNOWN_OUTCOME  # one of OUTCOME_LABELS


class DoseSegment(NamedTuple):
    """One constant-dose stretch of a trial, ``[start, end)``, for the timeline chart."""

    start: date
    end: date
    dose_mg: Decimal
    adequate: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days


class TrialEvaluation(NamedTuple):
    trial: TrialFacts
    end: date  # the date the trial runs to
    segments: tuple[DoseSegment, ...]
    days_at_adequate_dose: int
    adequate: bool
    counts_toward_trd: bool
    reasons: tuple[str, ...]  # empty when the trial counts
    # Days at adequate dose on or after the episode start (all of them without one).
    days_in_episode: int = 0
    ongoing: bool = False  # no end date, or one after the as-of date (rule 1)
    notes: tuple[str, ...] = ()  # what the clinician should know; never changes the count


class TrdEvaluation(NamedTuple):
    as_of: date
    meets_trd: bool
    failed_adequate_trial_count: int  # number of DISTINCT drugs among counting trials
    counting_drugs: tuple[str, ...]  # sorted distinct drug names that count
    trials: tuple[TrialEvaluation, ...]  # trials considered, ordered by (start_date, id)
    summary: str  # one plain-language sentence

    @property
    def verdict(self) -> str:
        """ "Meets the TRD definition" or "Does not meet the TRD definition"."""
        return VERDICTS[self.meets_trd]


@lru_cache(maxsize=4096, typed=True)
def format_dose(value: Decimal | int | float) -> str:
    """Format a dose without trailing zeros or exponent: 25, 37.5, 0.025, 100.

    Remembered per value: exports format the same few doses for every trial."""
    dec = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(dec.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def _trial_end(trial: TrialFacts, as_of: date) -> tuple[date, bool]:
    """Rule 1 (a): the date the trial runs to (the earlier of its end date and the as-of date,
    never before the start), and whether it is ongoing as of ``as_of``."""
    end_date = trial.end_date
    ongoing = end_date is None or end_date > as_of
    end = as_of if ongoing else end_date
    return (end if end > trial.start_date else trial.start_date), ongoing


def _change_date(change: DoseChange) -> date:
    return change.date


def _segments(trial: TrialFacts, end: date) -> tuple[tuple[DoseSegment, ...], Decimal]:
    """Split the trial's run into constant-dose segments.

    Returns the non-empty segments and the dose in effect on the start date (the
    starting dose, or a change dated on the start date that replaces it).
    """
    minimum = trial.drug.min_adequate_dose_mg
    start, dose = trial.start_date, trial.dose_mg
    changes = trial.dose_changes
    if not changes:  # most trials: one dose throughout, so one segment (if any days)
        if end <= start:
            return (), dose
        return (DoseSegment(start, end, dose, minimum is not None and dose >= minimum),), dose

    # Each dose runs from its date to the next change's date (or the end), cut at the end;
    # empty stretches are dropped. Rule 2 (c): changes dated before the start are ignored; a
    # change on the start date replaces the starting dose. sorted() is stable, so same-day
    # changes keep input order and the last one wins (the earlier ones last no day).
    start_dose = dose
    segments: list[DoseSegment] = []
    seg_start = start
    for change in sorted(changes, key=_change_date) if len(changes) > 1 else changes:
        when = change.date
        if when < start:
            continue
        if when == start:
            start_dose = change.dose_mg
        seg_end = when if when < end else end
        if seg_end > seg_start:
            segments.append(
                DoseSegment(seg_start, seg_end, dose, minimum is not None and dose >= minimum)
            )
        seg_start, dose = when, change.dose_mg
    if end > seg_start:
        segments.append(DoseSegment(seg_start, end, dose, minimum is not None and dose >= minimum))
    return tuple(segments), start_dose


def _adequate_days(segments: tuple[DoseSegment, ...], since: date | None) -> tuple[int, int]:
    """Days at an adequate dose: all of them, and those on or after ``since`` (all of them
    again when ``since`` is None)."""
    days = days_since = 0
    for seg_start, seg_end, _, adequate in segments:
        if adequate:
            days += (seg_end - seg_start).days
            if since is not None and seg_end > since:
                days_since += (seg_end - (seg_start if seg_start > since else since)).days
    return days, (days if since is None else days_since)


def _outcome_label(outcome: str) -> str:
    return outcome.replace("_", " ")


def evaluate_trial(
    trial: TrialFacts, *, as_of: date, episode_start: date | None = None
) -> TrialEvaluation:
    """Evaluate one trial as of ``as_of`` (see the module docstring for the rule).

    ``notes`` stay empty here: they compare trials, so :func:`evaluate` adds them.
    """
    drug = trial.drug
    end, ongoing = _trial_end(trial, as_of)
    segments, start_dose = _segments(trial, end)
    days, days_in_episode = _adequate_days(segments, episode_start)

    enough_days = days >= MIN_ADEQUATE_DAYS
    poor_adherence = trial.adherence == POOR_ADHERENCE
    adequate = drug.is_antidepressant and enough_days and not poor_adherence
    outcome_counts = trial.outcome in COUNTING_OUTCOMES
    in_episode = days_in_episode >= MIN_ADEQUATE_DAYS
    counts = adequate and outcome_counts and in_episode

    reasons: tuple[str, ...] = ()
    if not counts:
        reasons = _reasons(
            trial, end, ongoing, episode_start, segments, start_dose, days, days_in_episode
        )

    # In field order, not by keyword: half the cost, and the exports build one per trial.
    return TrialEvaluation(
        trial, end, segments, days, adequate, counts, reasons, days_in_episode, ongoing
    )


def _reasons(
    trial: TrialFacts,
    end: date,
    ongoing: bool,
    episode_start: date | None,
    segments: tuple[DoseSegment, ...],
    start_dose: Decimal,
    days: int,
    days_in_episode: int,
) -> tuple[str, ...]:
    """Why a trial does not count toward TRD."""
    drug = trial.drug
    if not drug.is_antidepressant:
        if drug.is_augmentation_agent:
            return (f"{drug.name} is an augmentation agent, not an antidepressant",)
        return (f"{drug.name} is not an antidepressant",)
    enough_days = days >= MIN_ADEQUATE_DAYS
    reasons: list[str] = []
    if not enough_days:
        reasons.append(_dose_reason(trial, segments, start_dose, days))
    if trial.adherence == POOR_ADHERENCE:
        reasons.append("adherence recorded as poor")
    if trial.outcome not in COUNTING_OUTCOMES:
        reasons.append(f"outcome: {_outcome_label(trial.outcome)}")
    if episode_start is not None and days_in_episode < MIN_ADEQUATE_DAYS:
        reason = _episode_reason(end, ongoing, episode_start, days_in_episode, enough_days)
        if reason:
            reasons.append(reason)
    return tuple(reasons)


def _episode_reason(
    end: date, ongoing: bool, episode_start: date, days_in_episode: int, enough_days: bool
) -> str | None:
    """Why the episode keeps an otherwise long enough trial out (rule 4 (b)), if it does."""
    if end <= episode_start:
        # Rule 1 (d): an ongoing trial has not ended; say so.
        run = f"ongoing on {end.isoformat()}" if ongoing else f"ended {end.isoformat()}"
        return f"before the current episode ({run}, episode began {episode_start.isoformat()})"
    if not enough_days:
        return None  # the dose reason already says the trial is too short
    return (
        f"only {days_in_episode} of the {MIN_ADEQUATE_DAYS} required days at an adequate dose "
        f"fell in the current episode (from {episode_start.isoformat()})"
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
        return (
            f"no published minimum adequate dose for {drug.name}: the trial cannot be "
            "judged adequate"
        )
    highest = max((seg.dose_mg for seg in segments), default=start_dose)
    if highest < minimum:
        return (
            f"dose {format_dose(highest)} mg/day is below the adequate "
            f"{format_dose(minimum)} mg/day for {drug.name}"
        )
    return f"only {days} of the {MIN_ADEQUATE_DAYS} required days at an adequate dose"


def _days_together(first: TrialEvaluation, second: TrialEvaluation) -> int:
    """Days on which both trials were at an adequate dose."""
    return sum(
        max(0, (min(a.end, b.end) - max(a.start, b.start)).days)
        for a in first.segments
        if a.adequate
        for b in second.segments
        if b.adequate
    )


def _with_combination_notes(
    evaluations: tuple[TrialEvaluation, ...],
) -> tuple[TrialEvaluation, ...]:
    """Rule 6: note every pair of counting trials of different drugs taken together."""
    notes: dict[int, list[str]] = {}
    counting = [(i, ev) for i, ev in enumerate(evaluations) if ev.counts_toward_trd]
    for i, first in counting:
        for j, second in counting:
            if i == j or first.trial.drug.name == second.trial.drug.name:
                continue
            together = _days_together(first, second)
            if together >= COMBINATION_NOTE_DAYS:
                notes.setdefault(i, []).append(
                    f"taken together with {second.trial.drug.name} for {together} days "
                    "(a combination; some definitions count it as one trial)"
                )
    return tuple(
        ev._replace(notes=tuple(notes[i])) if i in notes else ev for i, ev in enumerate(evaluations)
    )


def _order_key(trial: TrialFacts) -> tuple[date, bool, int]:
    # Unsaved trials (id None) sort after saved ones on the same start date.
    return (trial.start_date, trial.id is None, trial.id or 0)


def status_label(meets: bool) -> str:
    """ "Meets TRD" or "Does not meet TRD"."""
    return STATUS_LABELS[MEETS if meets else NOT_MET]


def _summary(counting_drugs: tuple[str, ...]) -> str:
    count = len(counting_drugs)
    if count >= MIN_FAILED_TRIALS:
        return (
            f"{status_label(True)}: adequate trials of {count} different antidepressants failed "
            f"({', '.join(counting_drugs)})."
        )
    return (
        f"{status_label(False)}: {count} of the {MIN_FAILED_TRIALS} required different "
        "antidepressants failed after an adequate trial."
    )


def evaluate(
    trials: Iterable[TrialFacts], *, as_of: date, episode_start: date | None = None
) -> TrdEvaluation:
    """Evaluate a patient's trials as of ``as_of``; trials starting later are ignored."""
    considered = sorted((t for t in trials if t.start_date <= as_of), key=_order_key)
    evaluations = _with_combination_notes(
        tuple(evaluate_trial(t, as_of=as_of, episode_start=episode_start) for t in considered)
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
