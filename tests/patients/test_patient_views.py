"""The patient list and page: what a clinician sees and may change."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.dates import today
from patients.models import Patient
from tests.factories import DoseChangeFactory, PatientFactory, TrialFactory, drug


def meets_trd(patient):
    start = today() - timedelta(days=200)
    TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        start_date=start,
        end_date=start + timedelta(days=60),
    )
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        dose_mg=150,
        start_date=start + timedelta(days=70),
        end_date=start + timedelta(days=130),
    )


def refresh(patient):
    from treatments.services import refresh_trd_summary

    refresh_trd_summary(patient)


@pytest.mark.django_db
def test_the_list_shows_each_patients_trd_status_and_count(clinician, practice, login):
    resistant = PatientFactory(practice=practice, identifier="A-RES")
    meets_trd(resistant)
    refresh(resistant)
    PatientFactory(practice=practice, identifier="B-NEW")
    page = login(clinician).get("/patients/").content.decode()
    row_resistant = page.split("A-RES")[1].split("</tr>")[0]
    row_new = page.split("B-NEW")[1].split("</tr>")[0]
    assert "Meets TRD" in row_resistant and ">2</td>" in row_resistant
    assert "Does not meet TRD" in row_new and ">0</td>" in row_new


@pytest.mark.django_db
def test_the_list_filters_by_trd_status_and_searches_by_identifier(clinician, practice, login):
    resistant = PatientFactory(practice=practice, identifier="A-RES")
    meets_trd(resistant)
    refresh(resistant)
    PatientFactory(practice=practice, identifier="B-NEW")
    client = login(clinician)
    meets = client.get("/patients/?status=meets").content.decode()
    assert "A-RES" in meets and "B-NEW" not in meets
    not_met = client.get("/patients/?status=not_met").content.decode()
    assert "B-NEW" in not_met and "A-RES" not in not_met
    response = client.post("/patients/", {"q": "b-n"})
    assert response.status_code == 302 and "b-n" not in response["Location"].lower()
    search = client.get(response["Location"]).content.decode()
    assert "B-NEW" in search and "A-RES" not in search
    cleared = client.post("/patients/", {"q": ""}, follow=True).content.decode()
    assert "B-NEW" in cleared and "A-RES" in cleared


@pytest.mark.django_db
def test_the_list_paginates(clinician, practice, login):
    for n in range(30):
        PatientFactory(practice=practice, identifier=f"P-{n:03d}")
    client = login(clinician)
    first = client.get("/patients/").content.decode()
    second = client.get("/patients/?page=2").content.decode()
    assert "P-000" in first and "P-029" not in first
    assert "P-029" in second and "Page 2 of 2" in second


@pytest.mark.django_db
def test_an_open_trial_crossing_six_weeks_changes_the_list_that_day_without_a_write(
    clinician, practice, login, monkeypatch
):
    from treatments.services import refresh_trd_summary

    patient = PatientFactory(practice=practice, identifier="OPEN-1")
    start = today() - timedelta(days=41)  # day 42 at an adequate dose is tomorrow
    TrialFactory(patient=patient, drug=drug("sertraline"), start_date=start, end_date=None)
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        dose_mg=150,
        start_date=start - timedelta(days=100),
        end_date=start - timedelta(days=40),
    )
    refresh_trd_summary(patient)
    stored = Patient.objects.filter(pk=patient.pk).values().get()

    def meeting_trd_listed() -> bool:
        page = login(clinician).get("/patients/?status=meets").content.decode()
        return "OPEN-1" in page

    assert meeting_trd_listed() is False
    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    assert meeting_trd_listed() is True
    assert Patient.objects.filter(pk=patient.pk).values().get() == stored  # nothing written
    patient.refresh_from_db()
    assert (patient.trd_meets, patient.trd_failed_count) == (True, 2)


@pytest.mark.django_db
def test_the_list_query_count_does_not_grow_with_patients(
    clinician, practice, login, django_assert_max_num_queries
):
    client = login(clinician)
    for n in range(3):
        meets_trd(PatientFactory(practice=practice, identifier=f"S-{n}"))
    client.get("/patients/")  # summaries now fresh
    with django_assert_max_num_queries(14) as small:  # +2: the read event and its patient links
        client.get("/patients/")
        small_count = len(small)
        assert small_count > 2
    for n in range(40):
        meets_trd(PatientFactory(practice=practice, identifier=f"L-{n:02d}"))
    client.get("/patients/")
    with django_assert_max_num_queries(small_count):
        client.get("/patients/")


@pytest.mark.django_db
def test_the_patient_page_query_count_does_not_grow_with_trials(
    clinician, patient, login, django_assert_max_num_queries
):
    client = login(clinician)

    def add_trials(count):
        start = today() - timedelta(days=800)
        for n in range(count):
            trial = TrialFactory(
                patient=patient,
                start_date=start + timedelta(days=n * 10),
                end_date=start + timedelta(days=n * 10 + 9),
            )
            DoseChangeFactory(trial=trial, date=trial.start_date + timedelta(days=3))

    add_trials(2)
    with django_assert_max_num_queries(30) as small:
        assert client.get(patient.get_absolute_url()).status_code == 200
        small_count = len(small)
        assert small_count > 2
    add_trials(38)
    with django_assert_max_num_queries(small_count):
        response = client.get(patient.get_absolute_url())
    assert response.content.decode().count('<rect class="trial') == 40


@pytest.mark.django_db
def test_the_patient_page_shows_the_banner_reasons_timeline_and_options(clinician, patient, login):
    start = today() - timedelta(days=100)
    TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        dose_mg=25,
        start_date=start,
        end_date=start + timedelta(days=60),
    )
    page = login(clinician).get(patient.get_absolute_url()).content.decode()
    assert "Does not meet the TRD definition" in page
    assert "dose 25 mg/day is below the adequate 50 mg/day for sertraline" in page
    assert '<div class="timeline"' in page and "<svg" in page
    assert "Next-line options for discussion" in page
    assert "not a recommendation" in page
    assert "Sources:" in page


@pytest.mark.django_db
def test_the_assessment_cell_shows_a_combination_note_on_both_counting_trials(
    clinician, patient, login
):
    start = today() - timedelta(days=200)
    TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        start_date=start,
        end_date=start + timedelta(days=70),
    )
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        dose_mg=150,
        start_date=start + timedelta(days=42),
        end_date=start + timedelta(days=84),
    )
    page = login(clinician).get(patient.get_absolute_url()).content.decode()
    table = page.split('id="trial-table"')[1].split("</table>")[0]

    assert table.count("counts toward TRD") == 2
    assert table.count('class="trial-assessment-notes') == 2
    assert (
        "taken together with venlafaxine for 28 days (a combination; some definitions "
        "count it as one trial)" in table
    )
    assert "taken together with sertraline for 28 days" in table


@pytest.mark.django_db
def test_viewing_a_patient_is_audited(clinician, patient, login):
    login(clinician).get(patient.get_absolute_url())
    event = AuditEvent.objects.get(action="view", patient_id=patient.pk)
    assert event.actor == "clinician"
    assert event.practice_id == patient.practice_id
    assert event.ip == "127.0.0.1"


@pytest.mark.django_db
def test_adding_a_patient_saves_it_in_the_users_practice(clinician, practice, login):
    response = login(clinician).post(
        reverse("patients:patient-add"),
        {"identifier": " NEW-7 ", "date_of_birth": "1990-01-02", "episode_start": "2025-03-01"},
    )
    patient = Patient.objects.get(identifier="NEW-7")
    assert response.status_code == 302 and response["Location"] == patient.get_absolute_url()
    assert patient.practice == practice
    event = AuditEvent.objects.get(action="create", object_type="patient")
    assert event.details["changes"]["identifier"] == [None, "NEW-7"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"identifier": "MRN-1", "date_of_birth": "1990-01-01"}, "identifier", "already exists"),
        ({"identifier": "X" * 65, "date_of_birth": "1990-01-01"}, "identifier", "at most 64"),
        ({"identifier": "Z-1", "date_of_birth": "2999-01-01"}, "date_of_birth", "future"),
        ({"identifier": "Z-1", "date_of_birth": "1990-02-30"}, "date_of_birth", "valid date"),
        (
            {"identifier": "Z-1", "date_of_birth": "1990-01-01", "episode_start": "1980-01-01"},
            "episode_start",
            "before the date of birth",
        ),
        ({"identifier": "", "date_of_birth": "1990-01-01"}, "identifier", "required"),
    ],
    ids=[
        "duplicate",
        "too-long",
        "future-birth",
        "impossible-date",
        "episode-before-birth",
        "empty",
    ],
)
def test_a_bad_patient_form_shows_the_field_error_and_saves_nothing(
    clinician, patient, login, data, field, message
):
    before = Patient.objects.count()
    response = login(clinician).post(reverse("patients:patient-add"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    assert Patient.objects.count() == before
    assert not AuditEvent.objects.filter(action="create").exists()


@pytest.mark.django_db
def test_the_same_identifier_is_fine_in_another_practice(outsider, patient, login):
    login(outsider).post(
        reverse("patients:patient-add"), {"identifier": "MRN-1", "date_of_birth": "1990-01-01"}
    )
    assert Patient.objects.filter(identifier="MRN-1").count() == 2


@pytest.mark.django_db
def test_editing_a_patient_keeps_the_old_and_new_values(clinician, patient, login):
    login(clinician).post(
        reverse("patients:patient-edit", args=[patient.pk]),
        {"identifier": "MRN-1", "date_of_birth": "1980-05-17", "episode_start": "2025-01-01"},
    )
    event = AuditEvent.objects.get(action="update", patient_id=patient.pk)
    assert event.details["changes"] == {"episode_start": [None, "2025-01-01"]}
    page = login(clinician).get(patient.get_absolute_url()).content.decode()
    assert "Episode start:</span> — → 1 Jan 2025" in page


@pytest.mark.django_db
def test_deleting_a_patient_asks_first_then_hides_it_but_keeps_it(clinician, patient, login):
    client = login(clinician)
    confirm = client.get(reverse("patients:patient-delete", args=[patient.pk]))
    assert "Remove patient MRN-1" in confirm.content.decode()
    patient.refresh_from_db()
    assert patient.deleted_at is None
    client.post(
        reverse("patients:patient-delete", args=[patient.pk]), {"reason": "duplicate record"}
    )
    patient.refresh_from_db()
    assert patient.deleted_at is not None
    assert client.get(patient.get_absolute_url()).status_code == 404
    assert "MRN-1" not in client.get("/patients/").content.decode()
    assert AuditEvent.objects.filter(action="delete", patient_id=patient.pk).exists()


@pytest.mark.django_db
def test_the_edit_form_carries_the_version_it_was_opened_on(clinician, patient, login):
    page = login(clinician).get(reverse("patients:patient-edit", args=[patient.pk]))

    assert '<input type="hidden" name="version" value="1"' in page.content.decode()


@pytest.mark.django_db
def test_a_stale_edit_overwrites_nothing_and_says_who_changed_what_when(
    clinician, colleague, patient, login, client
):
    url = reverse("patients:patient-edit", args=[patient.pk])
    form = {"identifier": "MRN-1", "date_of_birth": "1980-05-17", "version": "1"}
    login(colleague).post(url, {**form, "notes": "colleague's note"})
    client.logout()

    response = login(clinician).post(url, {**form, "notes": "my note"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "colleague changed this record at " in page and "Nothing was saved" in page
    assert "my note" in page  # the input is kept
    assert '<input type="hidden" name="version" value="2"' in page
    patient.refresh_from_db()
    assert (patient.notes, patient.version) == ("colleague's note", 2)
    assert AuditEvent.objects.filter(action="update", patient_id=patient.pk).count() == 1

    again = login(clinician).post(url, {**form, "notes": "my note", "version": "2"})
    assert again.status_code == 302
    patient.refresh_from_db()
    assert (patient.notes, patient.version) == ("my note", 3)
