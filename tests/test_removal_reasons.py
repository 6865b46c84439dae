"""Every removal of a clinical record (patient, trial, therapy, score) says why: the web asks,
the API refuses without one (400 on `reason`), and the reason is kept in the audit event."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import clean_deletion_reason
from tests.factories import ScaleScoreFactory, TherapyFactory, TrialFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("reason", [None, "", "   ", 5, ["x"], "x" * 501, "a\x00b"])
def test_the_rule_refuses_missing_odd_and_overlong_reasons(reason):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        clean_deletion_reason(reason)
    assert list(refused.value.message_dict) == ["reason"]


def test_the_rule_keeps_a_reason_trimmed():
    assert clean_deletion_reason("  duplicate entry \n") == "duplicate entry"


def records(patient):
    return {
        "patient": (
            patient,
            reverse("patients:patient-delete", args=[patient.pk]),
            f"/api/v1/patients/{patient.pk}/",
        ),
        "trial": (
            trial := TrialFactory(patient=patient),
            reverse("treatments:trial-delete", args=[patient.pk, trial.pk]),
            f"/api/v1/patients/{patient.pk}/trials/{trial.pk}/",
        ),
        "therapy": (
            therapy := TherapyFactory(patient=patient),
            reverse("treatments:therapy-delete", args=[patient.pk, therapy.pk]),
            f"/api/v1/patients/{patient.pk}/therapies/{therapy.pk}/",
        ),
        "scalescore": (
            score := ScaleScoreFactory(patient=patient),
            reverse("treatments:score-delete", args=[patient.pk, score.pk]),
            f"/api/v1/patients/{patient.pk}/scores/{score.pk}/",
        ),
    }


@pytest.mark.parametrize("kind", ["patient", "trial", "therapy", "scalescore"])
def test_the_web_asks_for_a_reason_and_keeps_it(login, clinician, patient, kind):
    record, url, _ = records(patient)[kind]
    client = login(clinician)

    assert 'name="reason"' in client.get(url).content.decode()
    assert client.post(url, {}).status_code == 200  # refused: the page again
    record.refresh_from_db()
    assert record.deleted_at is None

    assert client.post(url, {"reason": "entered twice"}).status_code == 302
    record.refresh_from_db()
    assert record.deleted_at is not None
    event = AuditEvent.objects.get(action="delete", object_type=kind)
    assert event.details["reason"] == "entered twice"


@pytest.mark.parametrize("kind", ["patient", "trial", "therapy", "scalescore"])
def test_the_api_refuses_a_removal_without_a_reason(api, clinician, patient, kind):
    record, _, url = records(patient)[kind]

    response = api(clinician).delete(url)

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    record.refresh_from_db()
    assert record.deleted_at is None
    assert not AuditEvent.objects.filter(action="delete").exists()


@pytest.mark.parametrize("kind", ["patient", "trial", "therapy", "scalescore"])
def test_the_api_takes_the_reason_in_the_body_or_the_query(api, clinician, patient, kind):
    record, _, url = records(patient)[kind]

    response = api(clinician).delete(url, {"reason": "wrong patient"}, format="json")

    assert response.status_code == 204
    assert AuditEvent.objects.get(action="delete", object_type=kind).details["reason"] == (
        "wrong patient"
    )


def test_the_change_history_shows_the_reason(login, clinician, patient):
    trial = TrialFactory(patient=patient)
    client = login(clinician)
    client.post(
        reverse("treatments:trial-delete", args=[patient.pk, trial.pk]),
        {"reason": "entered for the wrong patient"},
    )

    page = client.get(patient.get_absolute_url()).content.decode()

    assert "entered for the wrong patient" in page
