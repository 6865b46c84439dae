"""The practice dashboard's figures: SQL aggregates over stored figures, precomputed and cached.

`practice_dashboard(practice_id)` returns a plain dict (ints, strings, lists) so that any
cache backend (local memory in development, Redis in production) can hold it. Every figure is
an aggregate query over stored columns: the patients' TRD summaries and the trials' figures
(treatments/trial_figures.py: the days at an adequate dose on a day are a SQL expression), so
the number of queries does not grow with the practice and no Python pass over trials is made.

The figures are computed off the request: a write schedules a recompute of its practice
(`schedule_recompute`, at most one a minute, after the commit) and the beat recomputes every
practice every few minutes (reports.tasks). A request shows the last figures with their time,
and asks for a recompute when they are older than FRESH_SECONDS. Only a practice with no
figures at all (a new practice, a flushed cache) is computed in the request, and only when it
is small (INLINE_MAX_PATIENTS); a large one is queued and the page says the figures are on
their way.
"""

import logging
from datetime import date
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncMonth
from django.utils import timezone

from core.dates import today
from core.queue import task_named
from patients.groups import pseudo_resistance
from patients.models import Patient, meets_trd_on, one_failed_trial_on
from treatments import trd
from treatments.models import Drug, Outcome, Trial

logger = logging.getLogger(__name__)

FRESH_SECONDS = 10 * 60  # older figures are still shown, and a recompute is asked for
KEEP_SECONDS = 7 * 24 * 3600  # how long the last figures stay in the cache to be shown
INLINE_MAX_PATIENTS = 20_000  # a practice this small is computed in the request on a miss
REFRESH_MINUTES = 5  # the beat's recompute of every practice (trdtracker/celery.py)
DEBOUNCE_SECONDS = 60  # after a write: at most one recompute per practice in this time
CACHE_VERSION = 2
MONTHS_SHOWN = 12


def cache_key(practice_id: int) -> str:
    return f"reports:dashboard:v{CACHE_VERSION}:practice:{practice_id}"


def pending_key(practice_id: int) -> str:
    return f"reports:dashboard:pending:practice:{practice_id}"


def is_fresh(figures: dict, now=None) -> bool:
    now = now or timezone.now()
    return (now - figures["computed_at"]).total_seconds() <= FRESH_SECONDS and (
        figures["as_of"] == today()
    )


def practice_dashboard(practice_id: int) -> dict | None:
    """The dashboard of one practice: the last precomputed figures (a recompute is asked for
    when they are old); on a miss, computed now for a small practice, else None (queued)."""
    figures = cache.get(cache_key(practice_id))
    if figures is not None:
        if not is_fresh(figures):
            schedule_recompute(practice_id, countdown=0)
        return figures
    if Patient.objects.filter(practice_id=practice_id).count() <= INLINE_MAX_PATIENTS:
        return recompute(practice_id)
    schedule_recompute(practice_id, countdown=0)
    return None


def recompute(practice_id: int) -> dict:
    """Compute the practice's figures and cache them (the task and a small practice's miss)."""
    figures = compute_dashboard(practice_id)
    cache.set(cache_key(practice_id), figures, KEEP_SECONDS)
    return figures


def schedule_recompute(practice_id: int, countdown: int = DEBOUNCE_SECONDS) -> bool:
    """Queue a recompute of the practice's figures in `countdown` seconds, unless one was
    queued in the last DEBOUNCE_SECONDS (cache.add is the debounce). Called after a write
    commits and by a request that finds old figures; it never fails the caller nor waits long
    on a broker that is down (the publish is not retried, the connection times out in
    seconds): the error is logged and the beat's schedule catches up."""
    if not cache.add(pending_key(practice_id), True, DEBOUNCE_SECONDS):
        return False
    try:
        task = task_named("reports.tasks.dashboard_recompute_task")
        task.apply_async((practice_id,), countdown=countdown, retry=False)
    except Exception:  # the write has committed: nothing may undo it or fail its response
        logger.exception("Dashboard recompute of practice %s could not be queued", practice_id)
        return False
    return True


# For the computation's transaction on PostgreSQL. The median's histogram (drug, days) is
# estimated at a tenth of the trials (the planner's guess for an expression of several
# columns), five times the real groups at 100,000 patients: with the default work_mem it sorts
# them on disk instead of hashing them in memory, and it does not share the scan with parallel
# workers, whose partial histograms it takes for large. With the default random_page_cost (4,
# for spinning disks) it reads the whole table rather than the covering index, a third of its
# size, when the practice has most of the trials.
PLANNER_SETTINGS = (
    "SELECT set_config('work_mem', '32MB', true), "
    "set_config('parallel_tuple_cost', '0.01', true), "
    "set_config('random_page_cost', '1.1', true)"
)


def compute_dashboard(practice_id: int, as_of: date | None = None) -> dict:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(PLANNER_SETTINGS)
        return practice_figures(practice_id, as_of or today())


def practice_figures(practice_id: int, as_of: date) -> dict:
    patients = Patient.objects.active().filter(practice_id=practice_id)
    trials = PracticeTrials.of(practice_id)
    drug_classes = dict(Drug.objects.values_list("pk", "drug_class"))
    return {
        "computed_at": timezone.now(),
        "as_of": as_of,
        "patients": patient_counts(patients, as_of),
        "trials_by_class": trials_by_class_and_outcome(trials, drug_classes),
        "adequate_days_by_class": median_adequate_days_by_class(trials, as_of, drug_classes),
        "trials_per_month": trials_per_month(trials, as_of),
    }


class PracticeTrials(NamedTuple):
    """A practice's active trials, read by practice_id from the trial indexes alone, and among
    them those of its deleted patients, whose counts every figure takes off (grouped_counts):
    cheaper than joining each trial to its patient, as a practice has few deleted patients."""

    every: QuerySet
    of_deleted_patients: QuerySet

    @classmethod
    def of(cls, practice_id: int) -> "PracticeTrials":
        deleted = list(
            Patient.objects.filter(practice_id=practice_id, deleted_at__isnull=False)
            .order_by()
            .values_list("pk", flat=True)
        )
        every = Trial.objects.active().filter(practice_id=practice_id)
        return cls(every, every.filter(patient_id__in=deleted))

    def filter(self, *args, **kwargs) -> "PracticeTrials":
        return PracticeTrials(*(trials.filter(*args, **kwargs) for trials in self))

    def annotate(self, **annotations) -> "PracticeTrials":
        return PracticeTrials(*(trials.annotate(**annotations) for trials in self))


def grouped_counts(trials: PracticeTrials, keys: list[str], **counts) -> list[tuple]:
    """Rows (*keys, *counts) of the trials of the practice's active patients grouped by `keys`,
    in one query: every trial's counts and, negated (UNION ALL; left out when no patient is
    deleted), those of the deleted patients' trials. A key can come in two rows: add them."""
    every = trials.every.values_list(*keys).annotate(**counts).order_by()
    negated = {name: count * Value(-1) for name, count in counts.items()}
    deleted = trials.of_deleted_patients.values_list(*keys).annotate(**negated).order_by()
    return list(every.union(deleted, all=True))


def patient_counts(patients, as_of: date) -> dict:
    """The practice's patients in four disjoint groups (two queries).

    - meeting_trd: meets TRD on `as_of` (from the stored summary, in SQL);
    - one_adequate_failure: does not meet TRD, but one adequate trial failed;
    - pseudo_resistance (possible): does not meet TRD, at least one antidepressant trial
      failed (no or partial response), but none of the failures was adequate;
    - other: everyone else (no failed antidepressant trial).

    The pseudo-resistant are counted with EXISTS in the WHERE clause, which PostgreSQL plans as
    a semi-join (an index probe per candidate, or a hash), not as a subplan per patient.
    """
    counts = patients.aggregate(
        total=Count("id"),
        meeting_trd=Count("id", filter=meets_trd_on(as_of)),
        one_adequate_failure=Count("id", filter=one_failed_trial_on(as_of)),
    )
    counts["pseudo_resistance"] = patients.filter(pseudo_resistance(as_of)).count()
    counts["other"] = (
        counts["total"]
        - counts["meeting_trd"]
        - counts["one_adequate_failure"]
        - counts["pseudo_resistance"]
    )
    return {
        key: counts[key]
        for key in ("total", "meeting_trd", "one_adequate_failure", "pseudo_resistance", "other")
    }


def trials_by_class_and_outcome(trials: PracticeTrials, drug_classes: dict[int, str]) -> list[dict]:
    """Per drug class (most trials first): the total and the count per outcome (one query,
    per drug: `drug_classes` gives each drug's class)."""
    by_class: dict[str, dict[str, int]] = {}
    for drug_id, outcome, n in grouped_counts(trials, ["drug_id", "outcome"], n=Count("*")):
        outcomes = by_class.setdefault(drug_classes[drug_id], {})
        outcomes[outcome] = outcomes.get(outcome, 0) + n
    result = [
        {
            "drug_class": drug_class,
            "total": sum(outcomes.values()),
            "outcomes": [(value, outcomes.get(value, 0)) for value in Outcome.values],
        }
        for drug_class, outcomes in by_class.items()
        if any(outcomes.values())  # not a class whose trials are all of deleted patients
    ]
    result.sort(key=lambda item: (-item["total"], item["drug_class"]))
    return result


class DaysBetween(Func):
    """Whole days from the second date to the first."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


def days_at_adequate_dose(as_of: date):
    """The trial's days at an adequate dose on `as_of` from its stored figures (exact for
    as-of days on or after its last dose change: treatments/trial_figures.py)."""
    day = Value(as_of, output_field=DateField())
    growing = DaysBetween(Least(day, Coalesce("end_date", day)), F("adequate_days_since"))
    return F("adequate_days_base") + Coalesce(Greatest(Value(0), growing), Value(0))


def adequate(as_of: date) -> Q:
    """Rule 3 on `as_of`: an antidepressant, 42 days at an adequate dose, adherence not poor."""
    return Q(counts_as_antidepressant=True) & adequate_if_antidepressant(as_of)


def adequate_if_antidepressant(as_of: date) -> Q:
    """Rule 3 for trials already known to be of an antidepressant (not naming the flag lets
    PostgreSQL read them from the index whose condition holds it)."""
    return Q(adequate_on__lte=as_of) & ~Q(adherence=trd.POOR_ADHERENCE)


def median_adequate_days_by_class(trials, as_of: date, drug_classes: dict[int, str]) -> list[dict]:
    """Per antidepressant class: trials, adequate trials and the median days at an adequate dose.

    One query: per drug and number of days, how many trials (and how many of them adequate),
    merged here into a histogram per class whose exact median is taken here. PostgreSQL
    groups it by hashing; an ordered percentile_cont per class sorted every trial instead
    (1.8 s against 1.0 s at 1M trials).
    """
    antidepressants = trials.filter(start_date__lte=as_of, counts_as_antidepressant=True)
    rows = grouped_counts(
        antidepressants.annotate(days=days_at_adequate_dose(as_of)),
        ["drug_id", "days"],
        n=Count("*"),
        adequate=Count("drug_id", filter=adequate_if_antidepressant(as_of)),
    )
    histograms: dict[str, dict[int, int]] = {}
    adequate_by_class: dict[str, int] = {}
    for drug_id, days, n, adequate_n in rows:
        drug_class = drug_classes[drug_id]
        counts = histograms.setdefault(drug_class, {})
        counts[days] = counts.get(days, 0) + n
        adequate_by_class[drug_class] = adequate_by_class.get(drug_class, 0) + adequate_n
    result = [
        {
            "drug_class": drug_class,
            "trials": sum(counts.values()),
            "adequate": adequate_by_class[drug_class],
            "median_days": round(histogram_median(counts), 1),
        }
        for drug_class, counts in histograms.items()
        if any(counts.values())  # not a class whose trials are all of deleted patients
    ]
    result.sort(key=lambda item: (-item["median_days"], item["drug_class"]))
    return result


def histogram_median(counts: dict[int, int]) -> float:
    """The median (as statistics.median gives it) of values given as {value: how many}."""
    total = sum(counts.values())
    lower, upper = (total - 1) // 2, total // 2  # the middle position(s), from 0
    seen, low_value = 0, None
    for value, n in sorted(counts.items()):
        if low_value is None and lower < seen + n:
            low_value = value
        if upper < seen + n:
            return low_value if lower == upper else (low_value + value) / 2
        seen += n
    raise ValueError("no median of an empty histogram")


def month_starts(as_of: date, count: int = MONTHS_SHOWN) -> list[date]:
    """The first days of the `count` months up to and including the month of `as_of`."""
    index = as_of.year * 12 + as_of.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def trials_per_month(trials: PracticeTrials, as_of: date) -> list[dict]:
    """Trials started in each of the last MONTHS_SHOWN months, zeros included (one query)."""
    months = month_starts(as_of)
    started = trials.filter(start_date__gte=months[0], start_date__lte=as_of)
    rows = grouped_counts(started.annotate(month=TruncMonth("start_date")), ["month"], n=Count("*"))
    counts: dict[date, int] = {}
    for month, n in rows:
        counts[_as_date(month)] = counts.get(_as_date(month), 0) + n
    return [{"month": month, "trials": counts.get(month, 0)} for month in months]


def _as_date(value) -> date:
    # TruncMonth of a DateField gives a date; some backends hand back a datetime.
    return value.date() if hasattr(value, "date") and callable(value.date) else value
