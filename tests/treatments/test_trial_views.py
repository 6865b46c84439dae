"""Adding, editing and removing trials and therapies through the web forms."""

from datetime import timedelta

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.dates import today
from tests.factories import TrialFactory, drug
from treatments.models import DoseChange, Therapy, Trial


def trial_data(**overrides):
    start = today() - timedelta(days=100)
    data = {
        "drug": drug("venlafaxine").pk,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=84)).isoformat(),
        "dose_mg": "75",
        "adherence": "good",
        "outcome": "partial_response",
        "reason_stopped": "",
        "notes": "",
        "doses-TOTAL_FORMS": "2",
        "doses-INITIAL_FORMS": "0",
        "doses-MIN_NUM_FORMS": "0",
        "doses-MAX_NUM_FORMS": "60",
        "doses-0-date": (start + timedelta(days=14)).isoformat(),
        "doses-0-dose_mg": "150",
        "doses-1-date": "",
        "doses-1-dose_mg": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_adding_a_trial_with_a_dose_change_saves_both_and_audits(clinician, patient, login):
    response = login(clinician).post(
        reverse("treatments:trial-add", args=[patient.pk]), trial_data()
    )
    assert response.status_code == 302
    trial = Trial.objects.get(patient=patient)
    assert trial.drug.name == "venlafaxine"
    assert [(c.date, c.dose_mg) for c in trial.dose_changes.all()] == [
        (trial.start_date + timedelta(days=14), 150)
    ]
    event = AuditEvent.objects.get(action="create", object_type="trial")
    assert event.details["changes"]["drug"] == [None, "venlafaxine"]
    assert event.details["changes"]["dose_changes"][1] == [
        [(trial.start_date + timedelta(days=14)).isoformat(), "150"]
    ]


@pytest.mark.django_db
def test_the_trial_form_shows_the_adequate_dose_of_each_drug(clinician, patient, login):
    page = login(clinician).get(reverse("treatments:trial-add", args=[patient.pk]))
    hints = page.context["form"].dose_hints()
    assert hints[str(drug("sertraline").pk)] == "adequate ≥ 50 mg/day"
    assert str(drug("liothyronine").pk) not in hints  # another medicine, not a trial
    assert 'id="dose-hints"' in page.content.decode()
    assert "sertraline (Zoloft, Lustral)" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides,where,message",
    [
        ({"end_date": "2000-01-01"}, "end_date", "before the start date"),
        ({"dose_mg": "0"}, "dose_mg", "greater than 0"),
        ({"dose_mg": "-5"}, "dose_mg", "greater than 0"),
        ({"dose_mg": "3751"}, "dose_mg", "10× the usual maximum"),
        ({"dose_mg": "abc"}, "dose_mg", "Enter a number"),
        ({"drug": "999999"}, "drug", "valid choice"),
        ({"start_date": "2024-02-30"}, "start_date", "valid date"),
        ({"start_date": "2999-01-01", "end_date": ""}, "start_date", "future"),
        ({"adherence": "sometimes"}, "adherence", "valid choice"),
        ({"outcome": "better"}, "outcome", "valid choice"),
        ({"doses-0-date": "2000-01-01"}, "doses-0-date", "before the trial's start date"),
        ({"doses-0-date": "2999-01-01"}, "doses-0-date", "after the trial's end date"),
        ({"doses-0-dose_mg": ""}, "doses-0-dose_mg", "required"),
        ({"doses-0-dose_mg": "0"}, "doses-0-dose_mg", "greater than 0"),
    ],
    ids=[
        "end-before-start",
        "zero-dose",
        "negative-dose",
        "dose-over-10x-max",
        "dose-not-number",
        "unknown-drug",
        "impossible-date",
        "future-start",
        "unknown-adherence",
        "unknown-outcome",
        "change-before-start",
        "change-after-end",
        "change-without-dose",
        "change-zero-dose",
    ],
)
def test_a_bad_trial_form_shows_the_field_error_and_saves_nothing(
    clinician, patient, login, overrides, where, message
):
    response = login(clinician).post(
        reverse("treatments:trial-add", args=[patient.pk]), trial_data(**overrides)
    )
    assert response.status_code == 200
    if where.startswith("doses-"):
        _, index, field = where.split("-", 2)
        errors = response.context["formset"].forms[int(index)].errors[field]
    else:
        errors = response.context["form"].errors[where]
    assert message in " ".join(errors)
    assert Trial.objects.count() == 0
    assert DoseChange.objects.count() == 0
    assert not AuditEvent.objects.filter(action="create").exists()


@pytest.mark.django_db
def test_editing_a_trial_records_old_and_new_values(clinician, patient, login):
    trial = TrialFactory(patient=patient, outcome="ongoing", end_date=None)
    data = trial_data(
        drug=trial.drug.pk,
        start_date=trial.start_date.isoformat(),
        end_date=(trial.start_date + timedelta(days=60)).isoformat(),
        dose_mg="100",
        outcome="no_response",
        **{"doses-0-date": "", "doses-0-dose_mg": ""},
    )
    response = login(clinician).post(
        reverse("treatments:trial-edit", args=[patient.pk, trial.pk]), data
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="update", object_id=str(trial.pk))
    assert event.actor == "clinician"
    assert event.details["changes"]["outcome"] == ["ongoing", "no_response"]
    assert event.details["changes"]["end_date"] == [
        None,
        (trial.start_date + timedelta(days=60)).isoformat(),
    ]


@pytest.mark.django_db
def test_the_edit_form_lists_existing_dose_changes_and_can_remove_one(clinician, patient, login):
    trial = TrialFactory(patient=patient)
    trial.dose_changes.create(date=trial.start_date + timedelta(days=10), dose_mg=150)
    client = login(clinician)
    url = reverse("treatments:trial-edit", args=[patient.pk, trial.pk])
    formset = client.get(url).context["formset"]
    assert formset.forms[0].initial["dose_mg"] == 150
    data = trial_data(
        drug=trial.drug.pk,
        start_date=trial.start_date.isoformat(),
        end_date=trial.end_date.isoformat(),
        dose_mg="100",
        outcome="no_response",
        **{
            "doses-0-date": (trial.start_date + timedelta(days=10)).isoformat(),
            "doses-0-dose_mg": "150",
            "doses-0-DELETE": "on",
        },
    )
    assert client.post(url, data).status_code == 302
    assert trial.dose_changes.count() == 0


@pytest.mark.django_db
def test_removing_a_trial_asks_first_then_keeps_it_for_audit(clinician, patient, login):
    trial = TrialFactory(patient=patient)
    client = login(clinician)
    url = reverse("treatments:trial-delete", args=[patient.pk, trial.pk])
    assert "Remove the trial of sertraline" in client.get(url).content.decode()
    client.post(url, {"reason": "entered for the wrong patient"})
    trial.refresh_from_db()
    assert trial.deleted_at is not None
    assert "trial-table" not in client.get(patient.get_absolute_url()).content.decode()
    assert AuditEvent.objects.filter(action="delete", object_id=str(trial.pk)).exists()


@pytest.mark.django_db
def test_adding_and_editing_a_therapy(clinician, patient, login):
    client = login(clinician)
    start = today() - timedelta(days=30)
    response = client.post(
        reverse("treatments:therapy-add", args=[patient.pk]),
        {
            "kind": "psychotherapy",
            "detail": "CBT",
            "start_date": start.isoformat(),
            "end_date": "",
            "outcome": "ongoing",
            "notes": "",
        },
    )
    assert response.status_code == 302
    therapy = Therapy.objects.get(patient=patient)
    client.post(
        reverse("treatments:therapy-edit", args=[patient.pk, therapy.pk]),
        {
            "kind": "psychotherapy",
            "detail": "DBT",
            "start_date": start.isoformat(),
            "end_date": "",
            "outcome": "ongoing",
            "notes": "",
        },
    )
    event = AuditEvent.objects.get(action="update", object_type="therapy")
    assert event.details["changes"] == {"detail": ["CBT", "DBT"]}
    page = client.get(patient.get_absolute_url()).content.decode()
    assert "Psychotherapy" in page and "DBT" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"kind": "astrology"}, "kind"),
        ({"end_date": "2000-01-01"}, "end_date"),
        ({"start_date": "2999-01-01"}, "start_date"),
    ],
    ids=["unknown-kind", "end-before-start", "future-start"],
)
def test_a_bad_therapy_form_saves_nothing(clinician, patient, login, overrides, field):
    data = {
        "kind": "ect",
        "detail": "",
        "start_date": (today() - timedelta(days=5)).isoformat(),
        "end_date": "",
        "outcome": "ongoing",
        "notes": "",
    }
    data.update(overrides)
    response = login(clinician).post(reverse("treatments:therapy-add", args=[patient.pk]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Therapy.objects.count() == 0


@pytest.mark.django_db
def test_a_trial_changes_the_stored_trd_summary_at_once(clinician, patient, login):
    start = today() - timedelta(days=300)
    TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        start_date=start,
        end_date=start + timedelta(days=60),
    )
    client = login(clinician)
    client.post(reverse("treatments:trial-add", args=[patient.pk]), trial_data())
    patient.refresh_from_db()
    assert patient.trd_meets is True and patient.trd_failed_count == 2


@pytest.mark.django_db
def test_a_stale_trial_edit_overwrites_nothing(clinician, colleague, patient, login, client):
    trial = TrialFactory(patient=patient, outcome="ongoing", end_date=None)
    url = reverse("treatments:trial-edit", args=[patient.pk, trial.pk])
    data = trial_data(
        drug=trial.drug.pk,
        start_date=trial.start_date.isoformat(),
        dose_mg="100",
        version="1",
        **{"doses-0-date": "", "doses-0-dose_mg": ""},
    )
    assert login(colleague).post(url, {**data, "notes": "colleague"}).status_code == 302
    client.logout()

    response = login(clinician).post(url, {**data, "notes": "mine"})

    assert response.status_code == 200
    assert "colleague changed this record at " in response.content.decode()
    trial.refresh_from_db()
    assert (trial.notes, trial.version) == ("colleague", 2)
