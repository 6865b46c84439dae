"""A recorded score can be corrected or removed (with a reason), on the web and the API;
versioned and audited like trials, and the suicide-risk banner follows the corrected data."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.dates import today
from tests.factories import ScaleScoreFactory
from treatments.models import ScaleScore

pytestmark = pytest.mark.django_db

RISKY = [2, 2, 1, 2, 1, 1, 1, 1, 2]  # item 9 = 2 (a typing slip, say)
CORRECTED = [2, 2, 1, 2, 1, 1, 1, 1, 0]


def phq9(patient, items=RISKY):
    return ScaleScoreFactory(
        patient=patient, scale="phq9", items=items, total=sum(items), date=today()
    )


def edit_url(patient, score):
    return reverse("treatments:score-edit", args=[patient.pk, score.pk])


def delete_url(patient, score):
    return reverse("treatments:score-delete", args=[patient.pk, score.pk])


def api_url(patient, score):
    return f"/api/v1/patients/{patient.pk}/scores/{score.pk}/"


def form_data(score, items, **overrides):
    data = {
        "scale": "phq9",
        "date": score.date.isoformat(),
        "total": "",
        "version": str(score.version),
    }
    data.update({f"item_{n}": str(value) for n, value in enumerate(items, start=1)})
    data.update(overrides)
    return data


def banner_shown(client, patient) -> bool:
    return "suicide-risk" in client.get(patient.get_absolute_url()).content.decode()


def test_the_patient_page_offers_correct_and_remove_for_each_score(login, clinician, patient):
    score = phq9(patient)

    page = login(clinician).get(patient.get_absolute_url()).content.decode()

    assert edit_url(patient, score) in page and delete_url(patient, score) in page


def test_the_correction_form_opens_with_the_recorded_answers(login, clinician, patient):
    score = phq9(patient)

    form = login(clinician).get(edit_url(patient, score)).context["form"]

    assert [form[f"item_{n}"].value() for n in range(1, 10)] == RISKY


def test_correcting_item_9_clears_the_risk_banner_and_is_audited(login, clinician, patient):
    score = phq9(patient)
    client = login(clinician)
    assert banner_shown(client, patient)

    response = client.post(edit_url(patient, score), form_data(score, CORRECTED))

    assert response.status_code == 302
    score.refresh_from_db()
    assert (score.items, score.total, score.version) == (CORRECTED, sum(CORRECTED), 2)
    assert not banner_shown(client, patient)
    event = AuditEvent.objects.get(action="update", object_type="scalescore")
    assert event.details["changes"]["item_scores"] == [RISKY, CORRECTED]
    assert event.details["changes"]["total"] == [sum(RISKY), sum(CORRECTED)]


def test_a_stale_correction_is_refused_and_explained(login, clinician, patient):
    score = phq9(patient)
    ScaleScore.objects.filter(pk=score.pk).update(version=5)

    response = login(clinician).post(edit_url(patient, score), form_data(score, CORRECTED))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    score.refresh_from_db()
    assert score.items == RISKY


def test_removing_a_score_needs_a_reason(login, clinician, patient):
    score = phq9(patient)
    client = login(clinician)

    refused = client.post(delete_url(patient, score), {"reason": "   "})

    assert refused.status_code == 200
    assert "reason" in refused.context["form"].errors
    score.refresh_from_db()
    assert score.deleted_at is None


def test_a_removed_score_leaves_the_page_and_the_banner_with_its_reason_audited(
    login, clinician, patient
):
    score = phq9(patient)
    client = login(clinician)

    response = client.post(delete_url(patient, score), {"reason": "entered for the wrong patient"})

    assert response.status_code == 302
    score.refresh_from_db()
    assert score.deleted_at is not None
    assert not banner_shown(client, patient)
    event = AuditEvent.objects.get(action="delete", object_type="scalescore")
    assert event.details["reason"] == "entered for the wrong patient"
    assert event.details["record"]["item_scores"] == RISKY


def test_an_auditor_cannot_correct_or_remove_scores(login, auditor, patient):
    score = phq9(patient)
    client = login(auditor)

    assert client.post(edit_url(patient, score), form_data(score, CORRECTED)).status_code == 403
    assert client.post(delete_url(patient, score), {"reason": "x"}).status_code == 403


def test_the_api_reads_corrects_and_removes_a_score(api, clinician, patient):
    score = phq9(patient)
    client = api(clinician)

    read = client.get(api_url(patient, score))
    assert (read.status_code, read["ETag"], read.json()["items"]) == (200, '"1"', RISKY)

    corrected = client.patch(
        api_url(patient, score), {"items": CORRECTED}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["total"], corrected["ETag"]) == (sum(CORRECTED), '"2"')

    stale = client.delete(
        api_url(patient, score), {"reason": "duplicate"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412

    no_reason = client.delete(api_url(patient, score))
    assert no_reason.status_code == 400
    assert list(no_reason.json()) == ["reason"]

    removed = client.delete(f"{api_url(patient, score)}?reason=duplicate")
    assert removed.status_code == 204
    assert client.get(api_url(patient, score)).status_code == 404
    event = AuditEvent.objects.get(action="delete", object_type="scalescore")
    assert event.details["reason"] == "duplicate"


def test_the_api_refuses_a_correction_that_breaks_the_scale(api, clinician, patient):
    score = phq9(patient)

    response = api(clinician).patch(api_url(patient, score), {"total": 3}, format="json")

    assert response.status_code == 400
    assert "total" in response.json()
    score.refresh_from_db()
    assert score.total == sum(RISKY)


def test_another_practice_cannot_reach_a_score(api, outsider, patient):
    score = phq9(patient)

    assert api(outsider).get(api_url(patient, score)).status_code == 404
    assert api(outsider).delete(f"{api_url(patient, score)}?reason=x").status_code == 404
