"""The dashboard from stored figures: the rule's numbers in SQL, a constant number of queries,
recomputed after writes (debounced, never failing a write), links to the patients behind it."""

import importlib
import random
import re
from datetime import timedelta
from decimal import Decimal
from statistics import median

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from kombu.exceptions import OperationalError

from core.dates import today
from patients.models import Patient
from patients.scope import PatientScope
from reports import dashboard
from reports.tasks import dashboard_recompute_task
from tests.factories import DoseChangeFactory, PatientFactory, TrialFactory, drug
from treatments import trd, trial_figures
from treatments.models import Trial
from treatments.services import refresh_trd_summaries, trial_create

DRUGS = ("sertraline", "escitalopram", "venlafaxine", "mirtazapine", "lithium")


@pytest.fixture(autouse=True)
def _cold_cache():
    cache.clear()
    yield
    cache.clear()


def random_practice(practice, patients: int, seed: int = 1, first: int = 0):
    """Patients with trials of several classes, doses around the minimum and dose changes
    (some on the start date), open and closed, their summaries refreshed as the services do."""
    rng = random.Random(seed)
    made = []
    for n in range(first, first + patients):
        patient = PatientFactory(practice=practice, identifier=f"R-{n:03d}", trd_evaluated_on=None)
        made.append(patient)
        for _ in range(rng.randrange(0, 4)):
            chosen = drug(rng.choice(DRUGS))
            start = today() - timedelta(days=rng.randrange(20, 400))
            end = (
                None
                if rng.random() < 0.3
                else min(today(), start + timedelta(days=rng.randrange(0, 120)))
            )
            minimum = chosen.min_adequate_dose_mg or Decimal("100")
            trial = TrialFactory(
                patient=patient,
                drug=chosen,
                start_date=start,
                end_date=end,
                dose_mg=minimum * Decimal(rng.choice(["0.5", "1", "2"])),
                adherence=rng.choice(["good", "good", "poor"]),
                outcome=rng.choice(["no_response", "partial_response", "response"]),
            )
            last = end or today()
            for day in sorted(
                rng.sample(
                    range(0, max(1, (last - start).days)),
                    k=min(rng.randrange(0, 3), max(1, (last - start).days)),
                )
            ):
                DoseChangeFactory(
                    trial=trial,
                    date=start + timedelta(days=day),
                    dose_mg=minimum * Decimal(rng.choice(["0.5", "1"])),
                )
    refresh_trd_summaries(Patient.objects.filter(pk__in=[p.pk for p in made]))
    return made


def rule_figures(practice) -> dict:
    """Per antidepressant class, the rule's own (trials, adequate, median days)."""
    days, adequate = {}, {}
    trials = Trial.objects.active().filter(
        patient__practice=practice, patient__deleted_at__isnull=True
    )
    for trial in trials.select_related("drug"):
        facts = trial.facts()
        if not facts.drug.is_antidepressant or trial.start_date > today():
            continue
        evaluation = trd.evaluate_trial(facts, as_of=today())
        days.setdefault(trial.drug.drug_class, []).append(evaluation.days_at_adequate_dose)
        adequate[trial.drug.drug_class] = (
            adequate.get(trial.drug.drug_class, 0) + evaluation.adequate
        )
    return {
        cls: (len(values), adequate[cls], round(median(values), 1)) for cls, values in days.items()
    }


@pytest.mark.django_db
def test_the_sql_figures_are_the_rules(practice):
    random_practice(practice, 40)
    computed = {
        row["drug_class"]: (row["trials"], row["adequate"], row["median_days"])
        for row in dashboard.compute_dashboard(practice.pk)["adequate_days_by_class"]
    }
    assert computed == rule_figures(practice)
    assert len(computed) >= 3


@pytest.mark.django_db
def test_the_stored_trial_figures_are_written_with_the_summaries(practice):
    random_practice(practice, 10)
    for trial in Trial.objects.filter(patient__practice=practice).select_related("drug"):
        stored = trial_figures.TrialFigures(
            *(getattr(trial, field) for field in trial_figures.TrialFigures._fields)
        )
        assert stored == trial_figures.figures(trial.facts())


@pytest.mark.django_db
def test_the_number_of_queries_does_not_depend_on_the_practice_size(practice):
    counts = []
    for patients, first in ((3, 0), (30, 3)):
        random_practice(practice, patients, seed=patients, first=first)
        with CaptureQueriesContext(connection) as queries:
            dashboard.compute_dashboard(practice.pk)
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_the_migration_fills_the_figures_of_existing_trials_in_chunks(practice, monkeypatch):
    random_practice(practice, 8)
    expected = {
        t.pk: trial_figures.figures(t.facts()) for t in Trial.objects.select_related("drug")
    }
    Trial.objects.update(
        adequate_days_base=0,
        adequate_days_since=None,
        adequate_on=None,
        counts_as_antidepressant=False,
    )
    migration = importlib.import_module("treatments.migrations.0010_fill_trial_figures")
    monkeypatch.setattr(migration, "CHUNK", 3)

    migration.fill(apps, connection.schema_editor())

    for trial in Trial.objects.all():
        assert (
            trial_figures.TrialFigures(
                *(getattr(trial, field) for field in trial_figures.TrialFigures._fields)
            )
            == expected[trial.pk]
        )


# --- recomputed after writes ------------------------------------------------------------------


def add_trial(clinician, patient):
    return trial_create(
        scope=PatientScope.trusted(clinician, patient),
        trial=Trial(
            drug=drug("sertraline"), start_date=today() - timedelta(days=10), dose_mg=Decimal("50")
        ),
        dose_changes=[],
    )


@pytest.mark.django_db
def test_two_writes_queue_one_recompute(
    clinician, patient, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        dashboard_recompute_task,
        "apply_async",
        lambda args, **options: queued.append((args, options)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        add_trial(clinician, patient)
    with django_capture_on_commit_callbacks(execute=True):
        add_trial(clinician, patient)

    assert queued == [
        ((patient.practice_id,), {"countdown": dashboard.DEBOUNCE_SECONDS, "retry": False})
    ]


@pytest.mark.django_db
def test_the_queued_recompute_caches_the_new_figures(
    clinician, patient, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_trial(clinician, patient)

    cached = cache.get(dashboard.cache_key(patient.practice_id))
    assert cached is not None
    assert sum(row["total"] for row in cached["trials_by_class"]) == 1


@pytest.mark.django_db
def test_a_broker_that_is_down_never_fails_the_write(
    clinician, patient, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(dashboard_recompute_task, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        trial = add_trial(clinician, patient)

    assert Trial.objects.filter(pk=trial.pk).exists()
    assert "could not be queued" in caplog.text


# --- the patients behind each figure ------------------------------------------------------

PATIENTS = reverse("patients:patient-list")


def listed(client, query: str) -> set[str]:
    response = client.get(f"{PATIENTS}?{query}")
    assert response.status_code == 200
    return {p.identifier for p in response.context["page"].paginator.object_list}


@pytest.mark.django_db
def test_each_group_lists_as_many_patients_as_the_dashboard_counts(practice, clinician, login):
    random_practice(practice, 20)
    counts = dashboard.compute_dashboard(practice.pk)["patients"]
    client = login(clinician)
    groups = {
        key: listed(client, f"trd={value}")
        for key, value in (
            ("meeting_trd", "meets"),
            ("one_adequate_failure", "one_failed"),
            ("pseudo_resistance", "pseudo"),
            ("other", "other"),
        )
    }

    assert {key: len(found) for key, found in groups.items()} == {
        key: counts[key] for key in groups
    }
    assert set().union(*groups.values()) == listed(client, "")  # disjoint, all patients
    assert sum(len(found) for found in groups.values()) == counts["total"]


@pytest.mark.django_db
def test_a_class_and_outcome_lists_the_patients_with_such_a_trial(practice, clinician, login):
    ssri_failed = PatientFactory(practice=practice, identifier="SSRI-NR")
    TrialFactory(patient=ssri_failed, drug=drug("sertraline"), outcome="no_response")
    ssri_responded = PatientFactory(practice=practice, identifier="SSRI-R")
    TrialFactory(patient=ssri_responded, drug=drug("escitalopram"), outcome="response")
    snri = PatientFactory(practice=practice, identifier="SNRI-NR")
    TrialFactory(patient=snri, drug=drug("venlafaxine"), outcome="no_response")
    client = login(clinician)

    assert listed(client, "drug_class=SSRI&outcome=no_response") == {"SSRI-NR"}
    assert listed(client, "drug_class=SSRI") == {"SSRI-NR", "SSRI-R"}
    page = client.get(f"{PATIENTS}?drug_class=SSRI&outcome=no_response").content.decode()
    assert "patients with a trial of the class SSRI (outcome: no response)" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "trd=nonsense",
        "drug_class=Unknown",
        "outcome=no_response",
        "drug_class=SSRI&outcome=%00bad",
        "trd=&drug_class=",
    ],
)
def test_unknown_filter_values_are_ignored(query, practice, clinician, login):
    for n in range(3):
        TrialFactory(
            patient=PatientFactory(practice=practice, identifier=f"P{n}"), outcome="response"
        )
    everyone = listed(login(clinician), "")
    expected = everyone if "SSRI" not in query else {"P0", "P1", "P2"}
    assert listed(login(clinician), query) == expected


@pytest.mark.django_db
def test_the_dashboard_links_its_figures_to_their_patients(practice, clinician, login):
    random_practice(practice, 10)
    page = login(clinician).get(reverse("dashboard:dashboard")).content.decode()
    for value in ("meets", "one_failed", "pseudo", "other"):
        assert f'href="{PATIENTS}?trd={value}"' in page
    assert f'<a href="{PATIENTS}?drug_class=SSRI">SSRI</a>' in page
    assert f'<a href="{PATIENTS}?drug_class=SSRI&amp;outcome=no_response">' in page
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(charts) == 4
    assert not [chart for chart in charts if "<a " in chart]  # nothing interactive in an img


def test_the_median_of_a_histogram_is_the_median_of_its_values():
    rng = random.Random(5)
    for _ in range(500):
        values = [rng.randrange(0, 30) for _ in range(rng.randrange(1, 40))]
        counts = {}
        for value in values:
            counts[value] = counts.get(value, 0) + 1
        assert dashboard.histogram_median(counts) == median(values)


# --- what a request does with the cache ----------------------------------------------------

DASHBOARD = reverse("dashboard:dashboard")


def trial_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "treatments_trial" in q["sql"]]


@pytest.mark.django_db
def test_old_figures_are_shown_with_their_time_and_a_recompute_is_asked_for(
    practice, clinician, login, monkeypatch
):
    random_practice(practice, 3)
    old = dashboard.recompute(practice.pk)
    old["computed_at"] -= timedelta(seconds=dashboard.FRESH_SECONDS + 1)
    cache.set(dashboard.cache_key(practice.pk), old)
    queued = []
    monkeypatch.setattr(
        dashboard_recompute_task,
        "apply_async",
        lambda args, **options: queued.append((args, options)),
    )
    client = login(clinician)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(DASHBOARD)

    assert response.status_code == 200
    assert response.context["figures"]["computed_at"] == old["computed_at"]
    assert trial_queries(queries) == []
    assert queued == [((practice.pk,), {"countdown": 0, "retry": False})]


@pytest.mark.django_db
def test_fresh_figures_are_shown_without_asking_for_a_recompute(
    practice, clinician, login, monkeypatch
):
    dashboard.recompute(practice.pk)
    queued = []
    monkeypatch.setattr(
        dashboard_recompute_task, "apply_async", lambda args, **options: queued.append(args)
    )

    assert login(clinician).get(DASHBOARD).status_code == 200
    assert queued == []


@pytest.mark.django_db
def test_a_small_practice_without_figures_is_computed_in_the_request(practice, clinician, login):
    random_practice(practice, 3)

    response = login(clinician).get(DASHBOARD)

    assert response.status_code == 200
    assert response.context["figures"]["patients"]["total"] == 3
    assert cache.get(dashboard.cache_key(practice.pk)) is not None


@pytest.mark.django_db
def test_a_large_practice_without_figures_is_queued_not_computed_in_the_request(
    practice, clinician, login, monkeypatch, eager
):
    random_practice(practice, 3)
    monkeypatch.setattr(dashboard, "INLINE_MAX_PATIENTS", 2)
    queued = []
    monkeypatch.setattr(
        dashboard_recompute_task, "apply_async", lambda args, **options: queued.append(args)
    )
    client = login(clinician)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(DASHBOARD)

    assert response.status_code == 200
    assert "being computed" in response.content.decode()
    assert trial_queries(queries) == []
    assert queued == [(practice.pk,)]
    monkeypatch.undo()  # the queued task runs (eagerly): the next view shows its figures
    dashboard_recompute_task.delay(practice.pk)
    assert login(clinician).get(DASHBOARD).context["figures"]["patients"]["total"] == 3
