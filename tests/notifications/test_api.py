"""GET /api/v1/notifications/ and POST /api/v1/notifications/{id}/read/."""

import pytest

from audit.models import AuditEvent
from notifications.models import Notification
from notifications.services import create_notifications

from .conftest import MARKS

LIST = "/api/v1/notifications/"


@pytest.fixture
def notified(clinician, colleague, ongoing_trial):
    """The 4-week review and a missing score, for the clinician and the colleague."""
    create_notifications(today=MARKS[4])
    return Notification.objects.filter(recipient=clinician)


def test_it_lists_the_users_own_notifications_newest_first(api, clinician, notified, ongoing_trial):
    response = api(clinician).get(LIST)

    assert response.status_code == 200
    items = response.json()["results"]
    assert [item["id"] for item in items] == [n.pk for n in notified.order_by("-created_at", "-id")]
    review = next(item for item in items if item["kind"] == "review_due")
    assert review == {
        "id": review["id"],
        "kind": "review_due",
        "message": review["message"],
        "due_on": MARKS[4].isoformat(),
        "created_at": review["created_at"],
        "read": False,
        "patient": ongoing_trial.patient_id,
        "trial": ongoing_trial.pk,
    }
    assert "4 weeks" in review["message"]
    missing = next(item for item in items if item["kind"] == "no_recent_score")
    assert missing["trial"] is None


def test_the_list_is_a_read_of_the_patients_it_names(api, clinician, notified, patient):
    api(clinician).get(LIST)

    event = AuditEvent.objects.get(details__api="notifications")
    assert event.actor == "clinician"
    assert list(event.patient_links.values_list("patient_id", flat=True)) == [patient.pk]


def test_unread_filters_the_list(api, clinician, notified):
    read = notified.first()
    api(clinician).post(f"{LIST}{read.pk}/read/")

    unread = api(clinician).get(LIST, {"unread": "true"}).json()["results"]
    done = api(clinician).get(LIST, {"unread": "false"}).json()["results"]

    assert read.pk not in [item["id"] for item in unread] and len(unread) == 1
    assert [item["id"] for item in done] == [read.pk]


@pytest.mark.parametrize("value", ["yes", "1", "", "TRUE"])
def test_a_bad_unread_value_is_400(api, clinician, notified, value):
    response = api(clinician).get(LIST, {"unread": value})

    assert response.status_code == 400
    assert "unread" in response.json()


def test_mark_read_answers_the_item(api, clinician, notified):
    notification = notified.first()

    response = api(clinician).post(f"{LIST}{notification.pk}/read/")

    assert response.status_code == 200
    assert response.json()["id"] == notification.pk and response.json()["read"] is True
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_users_notification_is_404(api, clinician, colleague, notified):
    theirs = Notification.objects.filter(recipient=colleague).first()

    assert api(clinician).post(f"{LIST}{theirs.pk}/read/").status_code == 404
    assert theirs.pk not in [item["id"] for item in api(clinician).get(LIST).json()["results"]]
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_outsider_sees_none_and_reads_none(api, outsider, notified):
    client = api(outsider)

    assert client.get(LIST).json()["results"] == []
    assert client.post(f"{LIST}{notified.first().pk}/read/").status_code == 404


def test_signing_in_is_required(api, notified):
    assert api().get(LIST).status_code == 401
