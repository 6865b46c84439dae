"""Per-trial figures that let SQL follow the TRD rule without Python (no Django here).

A trial's days at an adequate dose as of a day ``d`` (treatments.trd.evaluate_trial) depend on
its dose segments. Once ``d`` is on or after the last dose change, only the last segment can
still grow, so three stored values say it for every such day:

    days(d) = adequate_days_base + max(0, min(d, end_date or d) - adequate_days_since)

(the second term is 0 when ``adequate_days_since`` is None), and ``adequate_on`` is the first
day on which the days reach ``trd.MIN_ADEQUATE_DAYS``: ``days(d) >= 42`` exactly when
``adequate_on <= d``, for every ``d`` (not only after the last change).

The same reach days, counted from the episode start, give the day each trial starts to count
toward TRD, and so :func:`count_steps`: how the count of trd.evaluate grows as days pass
(tested against a bisection on trd.evaluate's count, day by day).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

from . import trd


class TrialFigures(NamedTuple):
    adequate_days_base: int
    adequate_days_since: date | None
    adequate_on: date | None
    counts_as_antidepressant: bool


class Stretch(NamedTuple):
    """A constant-dose stretch ``[start, end)``; ``end`` None while it runs on (open trial)."""

    start: date
    end: date | None
    adequate: bool
    last: bool  # the stretch of the last dose change (the only one that can still grow)


def stretches(trial) -> list[Stretch]:
    """The trial's non-empty constant-dose stretches, as trd._segments cuts them, but up to the
    end date (or open) rather than up to an as-of day."""
    return [Stretch(*part) for part in _stretches(trial)]


def _stretches(trial) -> list[tuple]:
    # Plain (start, end, adequate, last) tuples: this runs for every trial of a full refresh.
    minimum = trial.drug.min_adequate_dose_mg
    start_date = trial.start_date
    points = [(start_date, trial.dose_mg)]
    # sorted() is stable: same-day changes keep their order and the last one wins.
    for change in sorted(trial.dose_changes, key=lambda c: c.date):
        if change.date >= start_date:
            points.append((change.date, change.dose_mg))
    end_date = trial.end_date
    result = []
    count = len(points)
    for index, (start, dose) in enumerate(points):
        last = index + 1 == count
        end = None if last else points[index + 1][0]
        if end_date is not None:
            end = end_date if end is None else min(end, end_date)
        if end is not None and end <= start:
            continue
        result.append((start, end, minimum is not None and dose >= minimum, last))
    return result


def _reach_day(parts, need: int, since: date | None = None) -> date | None:
    total = 0
    for start, end, adequate, _last in parts:
        if not adequate:
            continue
        if since is not None and since > start:
            start = since
        if end is not None and end <= start:
            continue
        missing = need - total
        if end is None or (end - start).days >= missing:
            return start + timedelta(days=missing)
        total += (end - start).days
    return None


def reach_day(parts: list[Stretch], need: int, since: date | None = None) -> date | None:
    """The first as-of day on which the adequate days on or after ``since`` reach ``need``."""
    return _reach_day(parts, need, since)


def _figures(trial, parts) -> TrialFigures:
    base, since = 0, None
    for start, end, adequate, last in parts:
        if not adequate:
            continue
        if last:
            since = start  # grows day by day until the end date (the formula's min)
        else:
            base += (end - start).days
    return TrialFigures(
        base, since, _reach_day(parts, trd.MIN_ADEQUATE_DAYS), bool(trial.drug.is_antidepressant)
    )


def figures(trial) -> TrialFigures:
    """The stored figures of a trd.TrialFacts (its drug already with its formulation)."""
    return _figures(trial, _stretches(trial))


def days_at_adequate_dose(stored: TrialFigures, end_date: date | None, as_of: date) -> int:
    """The formula SQL computes (reports.dashboard), for as-of days on or after the last
    dose change."""
    if stored.adequate_days_since is None:
        return stored.adequate_days_base
    upto = as_of if end_date is None else min(as_of, end_date)
    return stored.adequate_days_base + max(0, (upto - stored.adequate_days_since).days)


def _counts_from(trial, parts, episode_start: date | None, adequate_on: date | None):
    if (
        adequate_on is None
        or not trial.drug.is_antidepressant
        or trial.adherence == trd.POOR_ADHERENCE
        or trial.outcome not in trd.COUNTING_OUTCOMES
    ):
        return None
    if episode_start is None:
        return adequate_on
    in_episode_on = _reach_day(parts, trd.MIN_ADEQUATE_DAYS, since=episode_start)
    return None if in_episode_on is None else max(adequate_on, in_episode_on)


def counts_from(trial, episode_start: date | None) -> date | None:
    """The first as-of day on which the trial counts toward TRD (None: never).

    It counts on ``d`` when adequate (antidepressant, adherence not poor, 42 days at an
    adequate dose by ``d``), its outcome counts and 42 of those days fall in the episode.
    Days only accumulate, so it counts from the later of the two reach days on.
    """
    parts = _stretches(trial)
    return _counts_from(trial, parts, episode_start, _reach_day(parts, trd.MIN_ADEQUATE_DAYS))


def evaluate(trial, episode_start: date | None) -> tuple[TrialFigures, date | None]:
    """The trial's stored figures and the day it starts to count, from one cut of its doses."""
    parts = _stretches(trial)
    stored = _figures(trial, parts)
    return stored, _counts_from(trial, parts, episode_start, stored.adequate_on)


def steps_from(
    counting: Iterable[tuple[str, date | None]],
    *,
    since: date,
    horizon_days: int = trd.HORIZON_DAYS,
) -> tuple[tuple[date, int], ...]:
    """The count steps from each trial's (drug name, first counting day or None)."""
    first_by_drug: dict[str, date] = {}
    for name, day in counting:
        if day is not None and (name not in first_by_drug or day < first_by_drug[name]):
            first_by_drug[name] = day
    last_day = since + timedelta(days=horizon_days)
    days = sorted(first_by_drug.values())
    steps = [(since, sum(1 for day in days if day <= since))]
    for day in days:
        if since < day <= last_day:
            if steps[-1][0] == day:
                steps[-1] = (day, steps[-1][1] + 1)
            else:
                steps.append((day, steps[-1][1] + 1))
    return tuple(steps)


def count_steps(
    trials: Iterable,
    *,
    since: date,
    episode_start: date | None = None,
    horizon_days: int = trd.HORIZON_DAYS,
) -> tuple[tuple[date, int], ...]:
    """How the failed-adequate-trial count (trd.evaluate's) grows as days pass with this history:
    ``((since, n0), (d1, n1), ...)``, the count on ``since`` and each later day it rises, up to
    ``horizon_days`` ahead. From each trial's first counting day: the count on a day is the
    number of drugs with a trial counting by then. Stored with the patient, it lets lists tell
    the status on any day in SQL without re-evaluating (and so without writing) on read."""
    return steps_from(
        ((trial.drug.name, counts_from(trial, episode_start)) for trial in trials),
        since=since,
        horizon_days=horizon_days,
    )
