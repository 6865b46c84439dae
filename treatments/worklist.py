"""The clinician's worklist: what needs attention this week. Pure Python, no Django.

The selector (treatments.selectors.clinician_worklist) loads the records and calls these
functions; the rules themselves live here and in the modules they reuse:

1. **Suicide risk**: the patient page's rule (selectors.suicide_risk: the clinician's flag, or
   item 9 above 0 in the latest PHQ-9). Newest first, by the date of what raised it: the PHQ-9's
   date, or for a clinician's flag the day the patient record last changed (the flag has no
   date of its own).
2. **Review due**: an ongoing trial whose days at an adequate dose (counted as trd.py counts
   them, from the starting dose and the dose changes) reach 4, 6 or 8 weeks on a day of the
   current week, Monday to Sunday. The dose in effect today is assumed to continue.
3. **Measured outcome disagrees**: measured.disagrees, as the patient page shows it.
4. **No recent score**: a patient with an ongoing trial and no rating-scale score in the last
   ``SCORE_GAP_DAYS`` days (a score exactly 28 days old still counts as recent); one line per
   patient, naming the ongoing trials.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from . import scales, trd

REVIEW_WEEKS = (4, 6, 8)
SCORE_GAP_DAYS = 28


def week_of(day: date) -> tuple[date, date]:
    """The Monday and the Sunday of `day`'s week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def adequate_since(segments: Iterable[trd.DoseSegment]) -> date | None:
    """The first day the trial was at (or above) the drug's minimum adequate dose."""
    return next((segment.start for segment in segments if segment.adequate), None)


def day_reaching(segments: Iterable[trd.DoseSegment], days: int) -> date | None:
    """The day on which the days at an adequate dose add up to `days`, as trd.evaluate counts
    them on that day (a trial adequate from its start reaches 42 days on start + 42)."""
    counted = 0
    for segment in segments:
        if not segment.adequate:
            continue
        if counted + segment.days >= days:
            return segment.start + timedelta(days=days - counted)
        counted += segment.days
    return None


@dataclass(frozen=True)
class ReviewDue:
    weeks: int
    on: date
    adequate_since: date

    @property
    def reason(self) -> str:
        return f"review due: {self.weeks} weeks at adequate dose on {self.on:%Y-%m-%d}"


def review_due(trial: trd.TrialFacts, *, today: date) -> ReviewDue | None:
    """The 4-, 6- or 8-week mark an ongoing trial reaches during today's week, if any."""
    if trial.end_date is not None:
        return None
    monday, sunday = week_of(today)
    # Evaluated as of Sunday: the dose in effect continues through the week.
    segments = trd.evaluate_trial(trial, as_of=sunday).segments
    since = adequate_since(segments)
    if since is None:
        return None
    for weeks in REVIEW_WEEKS:
        on = day_reaching(segments, weeks * 7)
        if on is not None and monday <= on <= sunday:
            return ReviewDue(weeks=weeks, on=on, adequate_since=since)
    return None


def score_overdue(last_score: date | None, *, today: date) -> bool:
    """No score at all, or none in the last SCORE_GAP_DAYS days."""
    return last_score is None or (today - last_score).days > SCORE_GAP_DAYS


def no_score_reason(last_score: date | None, *, today: date) -> str:
    if last_score is None:
        return "no score recorded"
    return f"no score for {(today - last_score).days} days (last on {last_score:%Y-%m-%d})"


def disagreement_reason(recorded_label: str, measured_label: str, measured_short: str) -> str:
    return (
        f"recorded {recorded_label.lower()}, the scores show {measured_label.lower()}: "
        f"{measured_short}"
    )


def risk_reason(
    *, flagged_by_clinician: bool, phq9_item9: int | None, phq9_date: date | None
) -> str:
    reasons = []
    if scales.at_suicide_risk(False, phq9_item9):
        reasons.append(f"PHQ-9 item 9 scored {phq9_item9} on {phq9_date:%Y-%m-%d}")
    if flagged_by_clinician:
        reasons.append("flagged by a clinician")
    return "; ".join(reasons)


def risk_date(
    *,
    flagged_by_clinician: bool,
    phq9_item9: int | None,
    phq9_date: date | None,
    record_changed: date | None,
) -> date | None:
    """The date of the newest thing that raised the flag (see rule 1)."""
    dates = []
    if scales.at_suicide_risk(False, phq9_item9) and phq9_date is not None:
        dates.append(phq9_date)
    if flagged_by_clinician and record_changed is not None:
        dates.append(record_changed)
    return max(dates, default=None)


@dataclass(frozen=True)
class Row:
    """One line of the worklist: a patient, why they are on it, and the trials it is about
    (none for suicide risk). `on` is the date the line is about."""

    patient: object
    reason: str
    on: date | None = None
    trials: tuple = ()


def newest_first(rows: Iterable[Row]) -> list[Row]:
    """By `on`, newest first (undated last), then by record number."""
    rows = sorted(rows, key=lambda row: str(getattr(row.patient, "identifier", "")))
    return sorted(rows, key=lambda row: (row.on is None, -row.on.toordinal() if row.on else 0))


def oldest_first(rows: Iterable[Row]) -> list[Row]:
    """By `on`, oldest (or undated) first, then by record number."""
    rows = sorted(rows, key=lambda row: str(getattr(row.patient, "identifier", "")))
    return sorted(rows, key=lambda row: row.on.toordinal() if row.on else 0)


@dataclass(frozen=True)
class Worklist:
    as_of: date
    suicide_risk: Sequence[Row]
    reviews_due: Sequence[Row]
    disagreements: Sequence[Row]
    no_recent_score: Sequence[Row]

    @property
    def week(self) -> tuple[date, date]:
        return week_of(self.as_of)

    @property
    def patients(self) -> list:
        """Every patient the worklist shows, once each (what the page's read names)."""
        seen = {}
        for rows in (self.suicide_risk, self.reviews_due, self.disagreements, self.no_recent_score):
            for row in rows:
                seen.setdefault(row.patient.pk, row.patient)
        return list(seen.values())
