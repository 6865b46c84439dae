"""The exports' since/until/drug_class filter (reports.selection.TrialScope): one rule, in SQL
for the trial exports and the register, in Python for the FHIR bundle."""

from datetime import date, timedelta

import pytest

from reports.selection import TrialScope
from tests.factories import TrialFactory, drug
from treatments.models import Trial

START = date(2024, 1, 10)


def test_the_scope_reads_the_options():
    assert TrialScope.of({}) == TrialScope("", "", "")
    assert not TrialScope.of({"since": "", "trd_status": "meets"}).given
    scope = TrialScope.of({"since": "2024-01-01", "until": "2024-01-31", "drug_class": "SSRI"})
    assert scope == TrialScope("2024-01-01", "2024-01-31", "SSRI") and scope.given


@pytest.mark.parametrize(
    ("day", "inside"),
    [(date(2023, 12, 31), False), (date(2024, 1, 1), True), (date(2024, 1, 31), True)]
    + [(date(2024, 2, 1), False)],
)
def test_both_dates_are_inclusive(day, inside):
    assert TrialScope("2024-01-01", "2024-01-31").in_range(day) is inside
    assert TrialScope().in_range(day)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"since": START.isoformat()},
        {"until": (START + timedelta(days=20)).isoformat()},
        {"drug_class": "SSRI"},
        {"since": START.isoformat(), "until": START.isoformat(), "drug_class": "SNRI"},
    ],
)
def test_sql_and_python_select_the_same_trials(options):
    for days, name in ((-1, "sertraline"), (0, "venlafaxine"), (0, "sertraline"), (21, "lithium")):
        TrialFactory(drug=drug(name), start_date=START + timedelta(days=days))
    scope = TrialScope.of(options)
    trials = Trial.objects.select_related("drug").order_by("id")
    in_sql = list(trials.filter(scope.q()))
    assert in_sql == [trial for trial in trials if scope.includes(trial)]
    assert in_sql  # every case selects some trial
