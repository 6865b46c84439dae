"""Exporting a practice's trials CSV and FHIR bundle and importing them into an empty practice
reproduces every patient's TRD status."""

from datetime import date, timedelta

import pytest

from accounts.models import Role
from core.dates import today
from patients.models import Patient
from tests.factories import (
    DoseChangeFactory,
    PatientFactory,
    PracticeFactory,
    ScaleScoreFactory,
    TrialFactory,
    drug,
    member,
)
from tests.reports.exports_support import day, seed_history
from treatments.models import DoseChange, ScaleScore, Trial
from treatments.selectors import patient_history
from treatments.services import refresh_trd_summaries


def status(practice) -> dict:
    result = {}
    for patient in Patient.objects.active().filter(practice=practice):
        evaluation = patient_history(patient).evaluation
        result[patient.identifier] = (
            patient.diagnosis,
            patient.date_of_birth,
            patient.trd_meets,
            patient.trd_failed_count,
            evaluation.meets_trd,
            evaluation.failed_adequate_trial_count,
        )
    return result


@pytest.fixture
def history(practice, patient):
    seeded = seed_history(practice, patient)
    one_failed = PatientFactory(
        practice=practice,
        identifier="MRN-3",
        date_of_birth=date(1970, 1, 1),
        diagnosis="mdd_recurrent",
    )
    TrialFactory(
        patient=one_failed,
        drug=drug("escitalopram"),
        start_date=day(10),
        end_date=day(80),
        dose_mg=10,
        outcome="no_response",
    )
    ongoing = TrialFactory(
        patient=one_failed,
        drug=drug("mirtazapine"),
        start_date=today() - timedelta(days=60),
        end_date=None,
        dose_mg=15,
        outcome="ongoing",
    )
    DoseChangeFactory(trial=ongoing, date=today() - timedelta(days=40), dose_mg=30)
    ScaleScoreFactory(
        patient=one_failed, scale="phq9", items=[2, 2, 2, 1, 1, 1, 1, 1, 1], date=day(20)
    )
    ScaleScoreFactory(patient=one_failed, scale="madrs", total=30, date=day(25))
    bipolar = PatientFactory(
        practice=practice,
        identifier="MRN-4",
        date_of_birth=date(1985, 6, 6),
        diagnosis="bipolar_depression",
    )
    for name, start in (("sertraline", 0), ("fluoxetine", 100)):
        TrialFactory(
            patient=bipolar,
            drug=drug(name),
            start_date=day(start),
            end_date=day(start + 70),
            dose_mg=100 if name == "sertraline" else 20,
        )
    # Two failed trials, the first before the current episode: only one counts.
    episodic = PatientFactory(
        practice=practice,
        identifier="MRN-5",
        date_of_birth=date(1979, 3, 3),
        episode_start=day(200),
    )
    for name, start in (("citalopram", 0), ("duloxetine", 210)):
        TrialFactory(
            patient=episodic,
            drug=drug(name),
            start_date=day(start),
            end_date=day(start + 70),
            dose_mg=20 if name == "citalopram" else 60,
            outcome="no_response",
        )
    refresh_trd_summaries(list(Patient.objects.filter(practice=practice)))
    return seeded


def test_exported_files_reimported_into_an_empty_practice_reproduce_every_trd_status(
    history, auditor, practice, run_export, upload, confirm
):
    bundle = run_export(auditor, kind="fhir_bundle")
    trials = run_export(auditor, kind="trials_csv")
    empty = PracticeFactory(name="Empty")
    newcomer = member(empty, Role.CLINICIAN, username="newcomer")

    first = confirm(newcomer, upload(newcomer, bundle, "bundle.json"))
    second = upload(newcomer, trials, "trials.csv")

    assert first.status == "done", first.error
    assert first.result == {
        "patients": 5,
        "trials": Trial.objects.filter(patient__practice=practice).count(),
        "scores": 2,
    }
    # The CSV holds the same trials: all already present.
    assert second.preview["counts"]["trials"]["create"] == 0
    assert second.preview["counts"]["unmatched"] == 0
    before = status(practice)
    assert before["MRN-1"][2] is True and before["MRN-2"][2] is False
    assert before["MRN-5"][2:4] == (False, 1)  # the episode's onset, carried by the Condition
    assert status(empty) == before
    assert Patient.objects.get(practice=empty, identifier="MRN-5").episode_start == day(200)
    copied = Trial.objects.get(patient__practice=empty, drug__name="venlafaxine")
    assert list(DoseChange.objects.filter(trial=copied).values_list("date", "dose_mg")) == [
        (day(114), 225)
    ]
    phq9 = ScaleScore.objects.get(patient__practice=empty, scale="phq9")
    assert phq9.items == [2, 2, 2, 1, 1, 1, 1, 1, 1] and phq9.total == 12


def test_the_trials_csv_alone_reproduces_every_trd_status(
    history, auditor, practice, run_export, upload, confirm
):
    trials = run_export(auditor, kind="trials_csv")
    empty = PracticeFactory(name="Empty")
    newcomer = member(empty, Role.CLINICIAN, username="newcomer")

    job = confirm(newcomer, upload(newcomer, trials))

    assert job.status == "done", job.error

    # The CSV carries neither the diagnosis nor the episode onset (the FHIR bundle's Condition
    # does): compare what the rule concludes from the trials, for the patients without an onset.
    def trd(practice):
        return {
            identifier: values[4:]
            for identifier, values in status(practice).items()
            if identifier != "MRN-5"
        }

    assert trd(empty) == trd(practice)


def test_a_deidentified_export_cannot_be_imported_as_patients(history, auditor, run_export, upload):
    bundle = run_export(auditor, kind="fhir_bundle", deidentify=True)
    empty = PracticeFactory(name="Empty")
    newcomer = member(empty, Role.CLINICIAN, username="newcomer")

    job = upload(newcomer, bundle, "bundle.json")

    assert job.preview["counts"]["patients"]["create"] == 0
    patient_rows = [r for r in job.preview["unmatched"] if "(Patient)" in r["row"]]
    assert len(patient_rows) == 5
    assert all("de-identified" in r["reason"] for r in patient_rows)
