"""The practice dashboard's figures: aggregate queries, one streaming pass, a 5-minute cache.

`practice_dashboard(practice_id)` returns a plain dict (ints, strings, lists) so that any
cache backend (local memory in development, Redis in production) can hold it. The
number of queries does not grow with the number of patients: counts come from
aggregates, and the per-class median of days at an adequate dose comes from one
pass over the practice's trials in chunks of plain tuples (the rule in treatments/trd.py
needs the dose segments, which SQL cannot easily follow); the number of those queries
grows only with trials / CHUNK_SIZE.
"""

from datetime import date
from itertools import islice
from statistics import median

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from patients.models import Patient
from trdtracker.validators import today
from treatments import catalog, trd
from treatments.models import DoseChange, Drug, Outcome, Trial

CACHE_SECONDS = 5 * 60
CACHE_VERSION = 1
MONTHS_SHOWN = 12
CHUNK_SIZE = 2000


def cache_key(practice_id: int) -> str:
    return f"reports:dashboard:v{CACHE_VERSION}:practice:{practice_id}"


def practice_dashboard(practice_id: int) -> dict:
    """The dashboard of one practice, from the cache when computed in the last 5 minutes."""
    key = cache_key(practice_id)
    figures = cache.get(key)
    if figures is None:
        figures = compute_dashboard(practice_id)
        cache.set(key, figures, CACHE_SECONDS)
    return figures


def compute_dashboard(practice_id: int, as_of: date | None = None) -> dict:
    as_of = as_of or today()
    patients = Patient.objects.active().filter(practice_id=practice_id)
    trials = Trial.objects.active().filter(
        patient__practice_id=practice_id, patient__deleted_at__isnull=True
    )
    return {
        "computed_at": timezone.now(),
        "as_of": as_of,
        "patients": patient_counts(patients, as_of),
        "trials_by_class": trials_by_class_and_outcome(trials),
        "adequate_days_by_class": median_adequate_days_by_class(trials, as_of),
        "trials_per_month": trials_per_month(trials, as_of),
    }


def patient_counts(patients, as_of: date) -> dict:
    """The practice's patients in four disjoint groups, counted in one query.

    - meeting_trd: meets TRD on `as_of` (from the stored summary, in SQL);
    - one_adequate_failure: does not meet TRD, but one adequate trial failed;
    - pseudo_resistance (possible): does not meet TRD, at least one antidepressant trial
      failed (no or partial response), but none of the failures was adequate;
    - other: everyone else (no failed antidepressant trial).
    """
    failed_antidepressant = Trial.objects.active().filter(
        patient=OuterRef("pk"),
        drug__is_antidepressant=True,
        outcome__in=sorted(trd.COUNTING_OUTCOMES),
    )
    meets, one_failed = Q(trd_meets_on__lte=as_of), Q(trd_one_failed_on__lte=as_of)
    counts = patients.annotate(has_failed_trial=Exists(failed_antidepressant)).aggregate(
        total=Count("id"),
        meeting_trd=Count("id", filter=meets),
        pseudo_resistance=Count("id", filter=~one_failed & Q(has_failed_trial=True)),
        one_adequate_failure=Count("id", filter=one_failed & ~meets),
    )
    counts["other"] = (
        counts["total"]
        - counts["meeting_trd"]
        - counts["one_adequate_failure"]
        - counts["pseudo_resistance"]
    )
    return counts


def trials_by_class_and_outcome(trials) -> list[dict]:
    """Per drug class (most trials first): the total and the count per outcome (one query)."""
    rows = trials.values("drug__drug_class", "outcome").annotate(n=Count("id")).order_by()
    by_class: dict[str, dict[str, int]] = {}
    for row in rows:
        outcomes = by_class.setdefault(row["drug__drug_class"], {})
        outcomes[row["outcome"]] = row["n"]
    result = [
        {
            "drug_class": drug_class,
            "total": sum(outcomes.values()),
            "outcomes": [(value, outcomes.get(value, 0)) for value in Outcome.values],
        }
        for drug_class, outcomes in by_class.items()
    ]
    result.sort(key=lambda item: (-item["total"], item["drug_class"]))
    return result


def median_adequate_days_by_class(trials, as_of: date) -> list[dict]:
    """Per antidepressant class: trials, adequate trials and the median days at an adequate dose.

    One pass over the trials as plain tuples (a server-side cursor on PostgreSQL), their
    dose changes fetched per chunk of CHUNK_SIZE, each trial evaluated by
    treatments.trd.evaluate_trial.
    """
    drugs = {drug.pk: drug.facts() for drug in Drug.objects.filter(is_antidepressant=True)}
    days_by_class: dict[str, list[int]] = {}
    adequate_by_class: dict[str, int] = {}
    for trial in _trial_facts(trials.filter(start_date__lte=as_of), drugs):
        evaluation = trd.evaluate_trial(trial, as_of=as_of)
        drug_class = trial.drug.drug_class
        days_by_class.setdefault(drug_class, []).append(evaluation.days_at_adequate_dose)
        adequate_by_class[drug_class] = adequate_by_class.get(drug_class, 0) + evaluation.adequate
    result = [
        {
            "drug_class": drug_class,
            "trials": len(days),
            "adequate": adequate_by_class[drug_class],
            "median_days": round(median(days), 1),
        }
        for drug_class, days in days_by_class.items()
    ]
    result.sort(key=lambda item: (-item["median_days"], item["drug_class"]))
    return result


TRIAL_COLUMNS = ("id", "drug_id", "start_date", "end_date", "dose_mg", "adherence", "outcome",
                 "formulation")


def _trial_facts(trials, drugs: dict[int, trd.DrugFacts]):
    """Yield trd.TrialFacts for the trials of `drugs` among `trials`, CHUNK_SIZE at a time.

    Filtering by drug here rather than in SQL keeps the query a plain scan of the
    practice's trials, whose plan does not depend on how the drugs are spread.
    """
    rows = trials.order_by().values_list(*TRIAL_COLUMNS).iterator(chunk_size=CHUNK_SIZE)
    while batch := list(islice(rows, CHUNK_SIZE)):
        chunk = [row for row in batch if row[1] in drugs]
        if not chunk:
            continue
        changes: dict[int, list[trd.DoseChange]] = {}
        for trial_id, day, dose in (
            DoseChange.objects.filter(trial_id__in=[row[0] for row in chunk])
            .order_by("trial_id", "date")
            .values_list("trial_id", "date", "dose_mg")
        ):
            changes.setdefault(trial_id, []).append(trd.DoseChange(day, dose))
        for pk, drug_id, start, end, dose, adherence, outcome, formulation in chunk:
            drug = catalog.with_formulation(drugs[drug_id], formulation)
            if not drug.is_antidepressant:
                continue  # a formulation that is not an antidepressant (oral selegiline)
            yield trd.TrialFacts(
                id=pk, drug=drug, start_date=start, end_date=end, dose_mg=dose,
                dose_changes=tuple(changes.get(pk, ())), adherence=adherence, outcome=outcome,
            )


def month_starts(as_of: date, count: int = MONTHS_SHOWN) -> list[date]:
    """The first days of the `count` months up to and including the month of `as_of`."""
    index = as_of.year * 12 + as_of.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def trials_per_month(trials, as_of: date) -> list[dict]:
    """Trials started in each of the last MONTHS_SHOWN months, zeros included (one query)."""
    months = month_starts(as_of)
    rows = (
        trials.filter(start_date__gte=months[0], start_date__lte=as_of)
        .annotate(month=TruncMonth("start_date"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {_as_date(row["month"]): row["n"] for row in rows}
    return [{"month": month, "trials": counts.get(month, 0)} for month in months]


def _as_date(value) -> date:
    # TruncMonth of a DateField gives a date; some backends hand back a datetime.
    return value.date() if hasattr(value, "date") and callable(value.date) else value
