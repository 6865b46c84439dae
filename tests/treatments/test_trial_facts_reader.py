"""One reading of a trial into the TRD rule's facts: the streamed reader (the exports), the
row mapping (the stored summaries) and Trial.facts() (the page) give the same facts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.factories import DoseChangeFactory, PatientFactory, TrialFactory, drug
from treatments import trd
from treatments.models import Outcome, Trial
from treatments.selectors import (
    FACT_COLUMNS,
    DrugFactsByForm,
    facts_from_values,
    iso_text,
    stream_trial_facts,
)

pytestmark = pytest.mark.django_db

START = date(2024, 1, 1)


@pytest.fixture
def trials():
    """Trials of two patients: with and without dose changes, ongoing, and in a formulation
    with its own figures (oral selegiline is no antidepressant trial)."""
    first, second = PatientFactory(), PatientFactory(episode_start=START)
    plain = TrialFactory(patient=first, start_date=START, end_date=START + timedelta(days=70))
    titrated = TrialFactory(
        patient=first, drug=drug("citalopram"), start_date=START, end_date=None, dose_mg=10
    )
    for days, dose in ((30, "30"), (10, "20")):  # written out of date order
        DoseChangeFactory(trial=titrated, date=START + timedelta(days=days), dose_mg=Decimal(dose))
    oral = TrialFactory(
        patient=second,
        drug=drug("selegiline"),
        formulation="oral",
        start_date=START + timedelta(days=5),
        dose_mg=10,
        outcome="partial_response",
    )
    return [plain, titrated, oral]


def test_the_streamed_facts_are_trial_facts(trials):
    ordered = Trial.objects.active().order_by("patient_id", "start_date", "id")
    streamed = list(stream_trial_facts(ordered, "patient_id", iso_text("start_date"), chunk_size=2))
    assert [facts for facts, _ in streamed] == [trial.facts() for trial in ordered]
    assert [extra for _, extra in streamed] == [
        (trial.patient_id, trial.start_date.isoformat()) for trial in ordered
    ]
    titrated = streamed[1][0]
    assert [change.dose_mg for change in titrated.dose_changes] == [20, 30]  # by date
    assert streamed[2][0].drug.is_antidepressant is False  # the formulation's facts


def test_the_reader_keeps_a_trials_rows_together_whatever_the_order(trials):
    by_start = Trial.objects.active().order_by("start_date")  # not unique: the id is added
    streamed = [facts for facts, _ in stream_trial_facts(by_start, chunk_size=2000)]
    assert sorted(streamed, key=lambda facts: facts.id) == [
        trial.facts() for trial in sorted(trials, key=lambda trial: trial.pk)
    ]


def test_the_reader_reads_in_two_queries(trials, django_assert_num_queries):
    with django_assert_num_queries(2):  # the drugs, then the trials with their dose changes
        list(stream_trial_facts(Trial.objects.order_by("id"), chunk_size=2000))
    drugs = DrugFactsByForm()
    with django_assert_num_queries(1):
        list(stream_trial_facts(Trial.objects.order_by("id"), drugs=drugs, chunk_size=2000))


def test_facts_from_values_is_what_trial_facts_gives(trials):
    drugs = DrugFactsByForm()
    for trial in trials:
        values = Trial.objects.filter(pk=trial.pk).values_list(*FACT_COLUMNS).get()
        changes = tuple(trd.DoseChange(c.date, c.dose_mg) for c in trial.dose_changes.all())
        assert facts_from_values(values, changes, drugs) == trial.facts()


def test_the_model_outcomes_are_the_rules():
    assert Outcome.choices == list(trd.OUTCOME_LABELS.items())
    assert trd.COUNTING_OUTCOMES <= set(Outcome.values)
