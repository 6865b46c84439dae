"""Diagnosis (the TRD definition applies to major depressive disorder) and depressive episodes
(the current one is the latest without an end; its onset is the patient's episode_start)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.dates import today
from patients.models import Episode, Patient
from tests.factories import TrialFactory, drug

pytestmark = pytest.mark.django_db

DAY0 = date(2023, 1, 2)


def episodes_url(patient):
    return f"/api/v1/patients/{patient.pk}/episodes/"


def trd_url(patient):
    return f"/api/v1/patients/{patient.pk}/trd/"


def two_failed_trials(patient):
    TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        start_date=DAY0,
        end_date=DAY0 + timedelta(days=60),
        outcome="no_response",
    )
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        dose_mg=150,
        start_date=DAY0 + timedelta(days=70),
        end_date=DAY0 + timedelta(days=140),
        outcome="no_response",
    )


# --- Diagnosis -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "diagnosis, applicable",
    [
        ("unknown", True),
        ("mdd_single", True),
        ("mdd_recurrent", True),
        ("bipolar_depression", False),
        ("other", False),
    ],
)
def test_the_trd_answer_says_whether_the_definition_applies(
    api, clinician, patient, diagnosis, applicable
):
    two_failed_trials(patient)
    api(clinician).patch(f"/api/v1/patients/{patient.pk}/", {"diagnosis": diagnosis}, format="json")

    body = api(clinician).get(trd_url(patient)).json()

    assert body["applicable"] is applicable
    assert body["meets_trd"] is applicable  # two failed trials: meets, where it applies
    assert (body["not_applicable_reason"] is None) is applicable
    if not applicable:
        assert "does not apply" in body["not_applicable_reason"]
        assert (body["maudsley"], body["thase_rush_stage"]) == (None, 0)


def test_a_bipolar_patient_is_never_listed_as_meeting_trd(api, login, clinician, patient):
    from treatments.services import refresh_trd_summary

    two_failed_trials(patient)
    refresh_trd_summary(patient)  # the factories write no summary
    assert Patient.objects.get(pk=patient.pk).trd_meets

    api(clinician).patch(
        f"/api/v1/patients/{patient.pk}/", {"diagnosis": "bipolar_depression"}, format="json"
    )

    assert not Patient.objects.get(pk=patient.pk).trd_meets  # the stored summary follows
    page = login(clinician).get(patient.get_absolute_url()).content.decode()
    assert "The TRD definition does not apply" in page
    assert "Meets the TRD definition" not in page


def test_diagnosis_and_psychotic_features_are_in_the_patient_api(api, clinician, patient):
    response = api(clinician).patch(
        f"/api/v1/patients/{patient.pk}/",
        {"diagnosis": "mdd_recurrent", "psychotic_features": True},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["diagnosis"], response.json()["psychotic_features"]) == (
        "mdd_recurrent",
        True,
    )
    assert (
        api(clinician)
        .patch(f"/api/v1/patients/{patient.pk}/", {"diagnosis": "mania"}, format="json")
        .status_code
        == 400
    )


def test_psychotic_features_show_beside_the_status(login, clinician, patient):
    Patient.objects.filter(pk=patient.pk).update(psychotic_features=True)

    page = login(clinician).get(patient.get_absolute_url()).content.decode()

    assert "with psychotic features" in page


# --- Episodes --------------------------------------------------------------------------------


def test_episodes_are_listed_created_and_the_current_onset_is_the_patients(api, clinician, patient):
    client = api(clinician)
    past = client.post(
        episodes_url(patient), {"onset": "2020-01-06", "ended": "2021-03-01"}, format="json"
    )
    current = client.post(episodes_url(patient), {"onset": "2025-02-03"}, format="json")

    assert (past.status_code, current.status_code) == (201, 201)
    assert set(current.json()) == {"id", "onset", "ended", "version"}
    listed = client.get(episodes_url(patient)).json()
    assert [(e["onset"], e["ended"]) for e in listed] == [
        ("2020-01-06", "2021-03-01"),
        ("2025-02-03", None),
    ]
    assert client.get(f"/api/v1/patients/{patient.pk}/").json()["episode_start"] == "2025-02-03"


def test_a_new_open_episode_ends_the_open_one_the_day_before(api, clinician, patient):
    client = api(clinician)
    first = client.post(episodes_url(patient), {"onset": "2022-01-03"}, format="json").json()
    client.post(episodes_url(patient), {"onset": "2024-05-06"}, format="json")

    assert Episode.objects.get(pk=first["id"]).ended == date(2024, 5, 5)
    patient.refresh_from_db()
    assert patient.episode_start == date(2024, 5, 6)


def test_writing_episode_start_creates_then_moves_the_current_episode(api, clinician, patient):
    client = api(clinician)
    client.patch(f"/api/v1/patients/{patient.pk}/", {"episode_start": "2024-01-01"}, format="json")
    client.patch(f"/api/v1/patients/{patient.pk}/", {"episode_start": "2024-02-01"}, format="json")

    assert [(e.onset, e.ended) for e in Episode.objects.filter(patient=patient)] == [
        (date(2024, 2, 1), None)
    ]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"onset": "2024-05-01", "ended": "2024-04-01"}, "ended"),
        ({"onset": (today() + timedelta(days=1)).isoformat()}, "onset"),
        ({"onset": "1970-01-01"}, "onset"),  # before the date of birth
        ({"onset": "2021-06-01", "ended": "2021-09-01"}, "onset"),  # overlaps the recorded one
        ({}, "onset"),
    ],
)
def test_invalid_episodes_are_refused(api, clinician, patient, payload, field):
    Episode.objects.create(patient=patient, onset=date(2021, 1, 4), ended=date(2021, 12, 31))

    response = api(clinician).post(episodes_url(patient), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Episode.objects.filter(patient=patient).count() == 1


def test_an_episode_is_corrected_and_removed_with_its_version_and_audited(api, clinician, patient):
    client = api(clinician)
    made = client.post(episodes_url(patient), {"onset": "2024-01-01"}, format="json").json()
    url = f"{episodes_url(patient)}{made['id']}/"

    assert (
        client.patch(url, {"onset": "2024-01-08"}, format="json", HTTP_IF_MATCH='"9"').status_code
        == 412
    )
    moved = client.patch(url, {"onset": "2024-01-08"}, format="json", HTTP_IF_MATCH='"1"')
    assert (moved.status_code, moved.json()["onset"]) == (200, "2024-01-08")
    patient.refresh_from_db()
    assert patient.episode_start == date(2024, 1, 8)

    assert client.delete(url).status_code == 204
    patient.refresh_from_db()
    assert patient.episode_start is None
    assert client.get(url).status_code == 404
    kinds = list(
        AuditEvent.objects.filter(object_type="episode")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert kinds == ["create", "update", "delete"]


def test_another_practice_cannot_reach_the_episodes(api, outsider, patient):
    episode = Episode.objects.create(patient=patient, onset=date(2024, 1, 1))

    assert api(outsider).get(episodes_url(patient)).status_code == 404
    assert api(outsider).delete(f"{episodes_url(patient)}{episode.pk}/").status_code == 404


def test_only_the_current_episodes_trials_count(api, clinician, patient):
    two_failed_trials(patient)  # both in 2023
    client = api(clinician)
    assert client.get(trd_url(patient)).json()["meets_trd"] is True

    client.post(
        episodes_url(patient), {"onset": "2022-06-01", "ended": "2023-12-31"}, format="json"
    )
    client.post(episodes_url(patient), {"onset": "2025-01-06"}, format="json")

    assert client.get(trd_url(patient)).json()["meets_trd"] is False


def test_the_page_folds_past_episodes_with_their_trials_and_says_when_no_onset(
    login, clinician, patient
):
    client = login(clinician)
    page = client.get(patient.get_absolute_url()).content.decode()
    assert "no episode onset recorded: every recorded trial was considered" in page

    two_failed_trials(patient)
    Episode.objects.create(patient=patient, onset=date(2022, 6, 1), ended=date(2023, 12, 31))
    Episode.objects.create(patient=patient, onset=date(2025, 1, 6))
    Patient.objects.filter(pk=patient.pk).update(episode_start=date(2025, 1, 6))

    page = client.get(patient.get_absolute_url()).content.decode()
    past = page.split("Past episode 2022-06-01")[1].split("</details>")[0]
    assert "→ 2023-12-31 · 2 trials" in past
    assert "sertraline" in past and "venlafaxine" in past
    assert "Current episode</strong> since 2025-01-06" in page


def test_the_demo_has_a_bipolar_patient_and_one_with_two_episodes(db):
    from demo.seed import seed_demo

    seed_demo("demo-password-2026")

    assert Patient.objects.filter(diagnosis="bipolar_depression").exists()
    assert Patient.objects.filter(identifier="DEMO-005").get().episodes.count() == 2
    assert not Patient.objects.get(identifier="DEMO-011").trd_meets


def test_episodes_are_recorded_edited_and_removed_on_the_web(login, clinician, patient):
    client = login(clinician)
    add = reverse("patients:episode-add", args=[patient.pk])

    assert client.post(add, {"onset": "2022-01-03", "ended": ""}).status_code == 302
    assert client.post(add, {"onset": "2024-05-06", "ended": ""}).status_code == 302
    first, second = Episode.objects.filter(patient=patient).order_by("onset")
    assert (first.ended, second.ended) == (date(2024, 5, 5), None)

    edit = reverse("patients:episode-edit", args=[patient.pk, second.pk])
    assert (
        client.post(edit, {"onset": "2024-05-13", "ended": "", "version": "1"}).status_code == 302
    )
    patient.refresh_from_db()
    assert patient.episode_start == date(2024, 5, 13)

    remove = reverse("patients:episode-delete", args=[patient.pk, second.pk])
    assert client.post(remove, {"reason": "entered twice"}).status_code == 302
    patient.refresh_from_db()
    assert patient.episode_start is None
    page = client.get(patient.get_absolute_url()).content.decode()
    assert "Past episode 2022-01-03" in page


def test_an_edit_form_submits_through_its_service_and_explains_what_the_service_refuses(patient):
    from django.core.exceptions import ValidationError

    from patients.forms import EpisodeForm
    from patients.versioning import StaleVersion

    episode = Episode.objects.create(patient=patient, onset=date(2024, 1, 1))
    form = EpisodeForm({"onset": "2024-01-08", "ended": "", "version": "1"}, instance=episode)
    assert form.is_valid()
    received = {}

    same, saved = form.submit(lambda **edit: received.update(edit))
    assert (same, saved) == (form, True)
    assert received == {"changes": {"onset": date(2024, 1, 8), "ended": None}, "if_match": {1}}

    def refuse(**edit):
        raise ValidationError("Overlaps another episode.")

    same, saved = form.submit(refuse)
    assert saved is False and "Overlaps another episode." in same.non_field_errors()

    def stale(**edit):
        raise StaleVersion(episode, "colleague", None)

    explained, saved = form.submit(stale)
    assert saved is False and explained is not form and explained.non_field_errors()
