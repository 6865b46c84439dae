"""Each trial carries its patient's practice (the dashboard reads a practice's trials by it)."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F

from core.dates import today
from patients.scope import PatientScope
from tests.factories import PatientFactory, TrialFactory, drug
from treatments.models import Trial
from treatments.services import trial_create


def new_trial(patient, **fields) -> Trial:
    return Trial(
        patient=patient,
        drug=drug("sertraline"),
        dose_mg=Decimal("50"),
        start_date=today() - timedelta(days=30),
        **fields,
    )


def trials_not_in_their_patients_practice():
    return Trial.objects.exclude(practice_id=F("patient__practice_id"))


@pytest.mark.django_db
def test_every_way_of_creating_a_trial_gives_it_its_patients_practice(
    practice, other_practice, clinician
):
    ours = PatientFactory(practice=practice)
    theirs = PatientFactory(practice=other_practice)
    trial_create(
        scope=PatientScope.trusted(clinician, ours),
        trial=Trial(
            drug=drug("sertraline"), start_date=today() - timedelta(days=10), dose_mg=Decimal("50")
        ),
        dose_changes=[],
    )
    TrialFactory(patient=theirs)
    new_trial(ours).save()
    Trial.objects.create(
        patient=theirs,
        drug=drug("sertraline"),
        dose_mg=Decimal("50"),
        start_date=today() - timedelta(days=20),
    )
    Trial.objects.bulk_create([new_trial(ours), new_trial(theirs)])

    assert Trial.objects.filter(practice=practice).count() == 3
    assert Trial.objects.filter(practice=other_practice).count() == 3
    assert not trials_not_in_their_patients_practice().exists()


@pytest.mark.django_db
def test_an_update_keeps_the_practice(practice):
    trial = TrialFactory(patient=PatientFactory(practice=practice))
    trial.outcome = "response"
    trial.save()
    assert Trial.objects.get(pk=trial.pk).practice_id == practice.pk


@pytest.mark.django_db
def test_the_migration_sets_each_existing_trial_to_its_patients_practice(practice, other_practice):
    for owner in (practice, other_practice):
        TrialFactory.create_batch(2, patient=PatientFactory(practice=owner))
    Trial.objects.update(practice=other_practice)  # as if filled wrongly
    assert trials_not_in_their_patients_practice().count() == 2

    migration = importlib.import_module("treatments.migrations.0011_trial_practice")
    with connection.cursor() as cursor:
        cursor.execute(migration.FILL)

    assert Trial.objects.filter(practice=practice).count() == 2
    assert not trials_not_in_their_patients_practice().exists()
