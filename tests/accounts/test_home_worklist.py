"""The clinician's worklist on the home page: four lists of what needs attention this week,
only the own practice's patients, the read audited, in a constant number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent, AuditEventPatient
from core.dates import today
from tests.factories import (
    DoseChangeFactory,
    PatientFactory,
    ScaleScoreFactory,
    TrialFactory,
    phq9,
)

pytestmark = pytest.mark.django_db

HOME = "/"


def days_ago(n: int):
    return today() - timedelta(days=n)


def ongoing(patient, *, start_days_ago: int, dose: str = "100", drug=None, **extra):
    fields = {"drug": drug} if drug else {}
    return TrialFactory(
        patient=patient,
        start_date=days_ago(start_days_ago),
        end_date=None,
        dose_mg=Decimal(dose),
        outcome="ongoing",
        **fields,
        **extra,
    )


def section(page: str, name: str) -> str:
    """The HTML of one worklist section."""
    return page.split(f'id="worklist-{name}"')[1].split("</section>")[0]


def shown(page: str, name: str, patient) -> bool:
    return f'href="{reverse("patients:patient-detail", args=[patient.pk])}"' in section(page, name)


def home(client):
    response = client.get(HOME)
    assert response.status_code == 200
    return response, response.content.decode()


def test_it_lists_patients_at_suicide_risk_newest_first(practice, clinician, login):
    older = PatientFactory(practice=practice, identifier="RISK-OLD")
    phq9(older, item9=1, days_ago=20)
    newer = PatientFactory(practice=practice, identifier="RISK-NEW")
    phq9(newer, item9=2, days_ago=3)
    flagged = PatientFactory(practice=practice, identifier="RISK-FLAG", suicide_risk_flag=True)
    settled = PatientFactory(practice=practice, identifier="SETTLED")
    phq9(settled, item9=2, days_ago=30)
    phq9(settled, item9=0, days_ago=2)  # the latest PHQ-9 decides

    response, page = home(login(clinician))

    rows = response.context["worklist"].suicide_risk
    assert [row.patient for row in rows] == [flagged, newer, older]
    risk = section(page, "risk")
    assert f"PHQ-9 item 9 scored 2 on {days_ago(3):%Y-%m-%d}" in risk
    assert "Flagged by a clinician" in risk
    assert not shown(page, "risk", settled)


def test_it_lists_ongoing_trials_reaching_6_weeks_at_adequate_dose_this_week(
    practice, clinician, login
):
    due = PatientFactory(practice=practice, identifier="DUE")
    ongoing(due, start_days_ago=42)
    raised = PatientFactory(practice=practice, identifier="RAISED")
    started_low = ongoing(raised, start_days_ago=52, dose="25")
    DoseChangeFactory(
        trial=started_low, date=started_low.start_date + timedelta(days=10), dose_mg=Decimal("100")
    )
    low = PatientFactory(practice=practice, identifier="LOW")
    ongoing(low, start_days_ago=42, dose="25")
    ended = PatientFactory(practice=practice, identifier="ENDED")
    TrialFactory(patient=ended, start_date=days_ago(42), end_date=days_ago(1))
    early = PatientFactory(practice=practice, identifier="EARLY")
    ongoing(early, start_days_ago=35)  # 5 weeks: between two reviews whatever the weekday

    response, page = home(login(clinician))

    reviews = section(page, "reviews")
    assert reviews.count(f"6 weeks at adequate dose on {today():%Y-%m-%d}") == 2
    assert shown(page, "reviews", due) and shown(page, "reviews", raised)
    for patient in (low, ended, early):
        assert not shown(page, "reviews", patient), patient.identifier
    assert "Reviews due this week" in reviews and ">2</span>" in reviews


def test_it_lists_trials_whose_recorded_outcome_the_scores_contradict(practice, clinician, login):
    contradicted = PatientFactory(practice=practice, identifier="CONTRA")
    trial = TrialFactory(
        patient=contradicted, start_date=days_ago(90), end_date=days_ago(30), outcome="no_response"
    )
    ScaleScoreFactory(patient=contradicted, date=trial.start_date, total=30)
    ScaleScoreFactory(patient=contradicted, date=trial.end_date, total=15)  # 50 % lower
    agreed = PatientFactory(practice=practice, identifier="AGREED")
    trial = TrialFactory(
        patient=agreed, start_date=days_ago(90), end_date=days_ago(30), outcome="response"
    )
    ScaleScoreFactory(patient=agreed, date=trial.start_date, total=30)
    ScaleScoreFactory(patient=agreed, date=trial.end_date, total=15)

    _, page = home(login(clinician))

    assert shown(page, "disagreements", contradicted)
    assert "Recorded no response, the scores show response" in section(page, "disagreements")
    assert not shown(page, "disagreements", agreed)


def test_it_lists_ongoing_trials_without_a_score_in_28_days(practice, clinician, login):
    stale = PatientFactory(practice=practice, identifier="STALE")
    ongoing(stale, start_days_ago=70)
    ScaleScoreFactory(patient=stale, date=days_ago(29))
    never = PatientFactory(practice=practice, identifier="NEVER")
    ongoing(never, start_days_ago=10)
    recent = PatientFactory(practice=practice, identifier="RECENT")
    ongoing(recent, start_days_ago=70)
    ScaleScoreFactory(patient=recent, date=days_ago(28))
    finished = PatientFactory(practice=practice, identifier="FINISHED")
    TrialFactory(patient=finished)  # ended, no score

    _, page = home(login(clinician))

    unscored = section(page, "unscored")
    assert shown(page, "unscored", stale) and shown(page, "unscored", never)
    assert f"No score for 29 days (last on {days_ago(29):%Y-%m-%d})" in unscored
    assert "No score recorded" in unscored
    assert not shown(page, "unscored", recent)
    assert not shown(page, "unscored", finished)


def test_empty_lists_say_so(practice, clinician, login):
    PatientFactory(practice=practice)

    _, page = home(login(clinician))

    assert "No patient is flagged for suicide risk." in section(page, "risk")
    assert "No review due this week." in section(page, "reviews")
    assert "Every recorded outcome agrees with the scores." in section(page, "disagreements")
    assert "Every ongoing trial has a score from the last 4 weeks." in section(page, "unscored")


def test_it_never_shows_another_practices_patients(practice, clinician, outsiders_patient, login):
    outsiders_patient.suicide_risk_flag = True
    outsiders_patient.save()
    ongoing(outsiders_patient, start_days_ago=42)  # review due and never scored

    response, page = home(login(clinician))

    assert response.context["worklist"].patients == []
    assert outsiders_patient.identifier not in page
    assert f"/patients/{outsiders_patient.pk}/" not in page


def test_the_outsider_sees_their_own_practices_patients(outsider, outsiders_patient, login):
    outsiders_patient.suicide_risk_flag = True
    outsiders_patient.save()

    response, _ = home(login(outsider))

    assert response.context["worklist"].patients == [outsiders_patient]


@pytest.mark.parametrize("role", ["auditor", "practice_admin"])
def test_auditors_and_admins_get_no_worklist(role, request, practice, login):
    patient = PatientFactory(practice=practice, suicide_risk_flag=True)
    ongoing(patient, start_days_ago=42)

    response, page = home(login(request.getfixturevalue(role)))

    assert response.context["worklist"] is None
    assert 'id="worklist"' not in page
    assert patient.identifier not in page
    assert "Audit trail" in page  # their own cards are still there
    assert not AuditEvent.objects.filter(action="view").exists()


def test_the_read_is_audited_naming_each_patient_shown(practice, clinician, login):
    at_risk = PatientFactory(practice=practice, suicide_risk_flag=True)
    unscored = PatientFactory(practice=practice)
    ongoing(unscored, start_days_ago=42)  # review due and unscored: named once
    quiet = PatientFactory(practice=practice)

    home(login(clinician))

    (event,) = AuditEvent.objects.filter(action="view")
    assert (event.actor, event.details) == ("clinician", {"page": "home-worklist", "patients": 2})
    named = set(AuditEventPatient.objects.filter(event=event).values_list("patient_id", flat=True))
    assert named == {at_risk.pk, unscored.pk}
    assert quiet.pk not in named


def test_an_empty_worklist_records_no_read(practice, clinician, login):
    PatientFactory(practice=practice)

    home(login(clinician))

    assert not AuditEvent.objects.filter(action="view").exists()


def busy_patients(practice, count: int, first: int = 0):
    """Patients on every list: flagged, a review due after a dose change, a contradicted
    outcome and no recent score."""
    for n in range(first, first + count):
        patient = PatientFactory(practice=practice, identifier=f"BUSY-{n:03d}")
        phq9(patient, item9=1, days_ago=40)
        trial = ongoing(patient, start_days_ago=52, dose="25")
        DoseChangeFactory(
            trial=trial, date=trial.start_date + timedelta(days=10), dose_mg=Decimal("100")
        )
        ended = TrialFactory(
            patient=patient, start_date=days_ago(100), end_date=days_ago(60), outcome="no_response"
        )
        ScaleScoreFactory(patient=patient, date=ended.start_date, total=30)
        ScaleScoreFactory(patient=patient, date=ended.end_date, total=15)


def test_its_query_count_does_not_grow_with_the_patients(
    practice, clinician, login, django_assert_max_num_queries
):
    client = login(clinician)
    client.get(HOME)  # the first request stores the idle clock (a session write) for a minute
    counts = []
    for count, first in ((2, 0), (18, 2)):
        busy_patients(practice, count, first)
        with django_assert_max_num_queries(16) as queries:
            response = client.get(HOME)
        worklist = response.context["worklist"]
        assert len(worklist.patients) == count + first
        assert all(
            len(rows) == count + first
            for rows in (
                worklist.suicide_risk,
                worklist.reviews_due,
                worklist.disagreements,
                worklist.no_recent_score,
            )
        )
        counts.append(len(queries))
    assert counts[0] == counts[1]
