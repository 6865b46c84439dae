"""What the daily task notifies and how it says it. Pure Python, no Django.

The clinical rules are treatments.worklist's (review_due, score_overdue): this module only
decides which of the worklist's findings become a notification today, names each event once
(the event key), and words the messages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from treatments import worklist

REVIEW_DUE = "review_due"
SELF_REPORT_DUE = "self_report_due"
NO_RECENT_SCORE = "no_recent_score"

# A task that missed days still notifies a mark reached during the last week, once.
CATCH_UP_DAYS = 7


def review_days_to_check(today: date) -> tuple[date, date]:
    """The days to ask worklist.review_due about: this week and last week (the week of today
    alone misses a mark reached last Sunday when today is Monday)."""
    return today - timedelta(days=7), today


def review_is_due_now(on: date, *, today: date) -> bool:
    """A mark is notified from its own day, for CATCH_UP_DAYS days (today included)."""
    return today - timedelta(days=CATCH_UP_DAYS - 1) <= on <= today


def review_key(trial_id: int, weeks: int) -> str:
    return f"{REVIEW_DUE}:trial:{trial_id}:{weeks}w"


def no_recent_score_key(patient_id: int, today: date) -> str:
    """One per patient per week (Monday to Sunday, the worklist's week)."""
    monday, _ = worklist.week_of(today)
    return f"{NO_RECENT_SCORE}:patient:{patient_id}:{monday:%Y-%m-%d}-week"


def self_report_due_on(
    *, every_weeks: int | None, last_link: date | None, trial_start: date | None
) -> date | None:
    """When the patient's next self-report is due: `every_weeks` after the last link (or after
    the ongoing antidepressant trial began, before any link); None without a schedule or an
    ongoing trial."""
    if not every_weeks or trial_start is None:
        return None
    since = max(d for d in (last_link, trial_start) if d is not None)
    return since + timedelta(weeks=every_weeks)


def self_report_key(patient_id: int, due: date) -> str:
    """Once per due date: a new link moves the next due date."""
    return f"{SELF_REPORT_DUE}:patient:{patient_id}:{due:%Y-%m-%d}"


def self_report_message(every_weeks: int, due: date) -> str:
    return (
        f"Self-report due: send a new PHQ-9 link (every {every_weeks} weeks while a trial "
        f"is ongoing; due {due:%Y-%m-%d})."
    )


def review_message(drug: str, due: worklist.ReviewDue) -> str:
    return (
        f"Review due: {drug} reaches {due.weeks} weeks at an adequate dose on "
        f"{due.on:%Y-%m-%d} (adequate since {due.adequate_since:%Y-%m-%d})."
    )


def no_recent_score_message(last_score: date | None, drugs: Iterable[str], *, today: date) -> str:
    reason = worklist.no_score_reason(last_score, today=today)
    return f"No recent score: {reason} during an ongoing trial of {', '.join(sorted(set(drugs)))}."


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


DIGEST_PHRASES = {
    REVIEW_DUE: ("review due today", "reviews due today"),
    SELF_REPORT_DUE: ("self-report due", "self-reports due"),
    NO_RECENT_SCORE: ("patient without a recent score", "patients without a recent score"),
}


def digest_text(kinds: Iterable[str], site_url: str = "") -> str | None:
    """The e-mail digest of a clinician's new notifications: counts only, no patient named.
    None when there is nothing to say."""
    counts = Counter(kinds)
    parts = [
        _count(counts[kind], *phrases) for kind, phrases in DIGEST_PHRASES.items() if counts[kind]
    ]
    if not parts:
        return None
    where = f" at {site_url}" if site_url else ""
    return f"{', '.join(parts)}. Sign in{where} to see them."
