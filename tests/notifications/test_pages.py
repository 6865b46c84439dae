"""The navigation's count, the /notifications/ page and the e-mail digest."""

import re
from datetime import timedelta

import pytest
from django.test import override_settings

from audit.models import AuditEvent
from core.dates import today
from notifications.models import Notification
from notifications.services import create_notifications
from notifications.tasks import create_notifications_task
from tests.factories import TrialFactory

from .conftest import MARKS

PAGE = "/notifications/"


@pytest.fixture
def notified(clinician, colleague, ongoing_trial):
    create_notifications(today=MARKS[4])  # a review and a missing score for each
    return Notification.objects.filter(recipient=clinician)


def badge(html: str) -> str | None:
    found = re.search(r'notification-link".*?</a>', html, re.S)
    if not found:
        return None
    count = re.search(r"badge[^>]*>(\d+)<", found.group(0))
    return count.group(1) if count else ""


def test_the_navigation_counts_the_unread(login, clinician, notified):
    client = login(clinician)
    assert badge(client.get(PAGE).content.decode()) == "2"

    notified.update(read_at=notified.first().created_at)

    assert badge(client.get(PAGE).content.decode()) == ""


def test_the_navigation_count_is_one_query(login, clinician, notified, django_assert_num_queries):
    from notifications.context_processors import notifications

    class Request:
        user = clinician

    context = notifications(Request())
    with django_assert_num_queries(1):
        assert str(context["unread_notifications"]) == "2"


@pytest.mark.parametrize("role", ["auditor", "practice_admin"])
def test_roles_that_do_not_treat_have_no_notifications_link(login, role, request, notified):
    client = login(request.getfixturevalue(role))

    assert badge(client.get("/dashboard/").content.decode()) is None


def test_the_page_lists_the_users_own_with_links_to_the_patients(
    login, clinician, notified, patient
):
    response = login(clinician).get(PAGE)

    html = response.content.decode()
    assert html.count('class="list-group-item') == 2
    assert f'href="/patients/{patient.pk}/"' in html and "MRN-1" in html
    assert "Review due: sertraline reaches 4 weeks" in html
    assert AuditEvent.objects.filter(details__page="notifications").count() == 1


def test_mark_read_and_mark_all_read(login, clinician, colleague, notified):
    client = login(clinician)
    first = notified.first()

    response = client.post(f"{PAGE}{first.pk}/read/")
    assert response.status_code == 302
    assert list(notified.filter(read_at__isnull=True)) == list(notified.exclude(pk=first.pk))

    client.post(f"{PAGE}read-all/")

    assert not notified.filter(read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=colleague, read_at__isnull=True).count() == 2


def test_another_users_notification_cannot_be_marked_read(login, clinician, colleague, notified):
    theirs = Notification.objects.filter(recipient=colleague).first()

    assert login(clinician).post(f"{PAGE}{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_needs_a_post(login, clinician, notified):
    assert login(clinician).get(f"{PAGE}{notified.first().pk}/read/").status_code == 405


@override_settings(NOTIFICATION_DIGEST=True, SITE_URL="https://trd.example.org")
@pytest.mark.usefixtures("eager", "colleague", "auditor")
def test_the_digest_counts_and_names_no_patient(clinician, patient, mailoutbox):
    TrialFactory(
        patient=patient, start_date=today() - timedelta(days=28), end_date=None, outcome="ongoing"
    )

    result = create_notifications_task.delay().get()

    assert result == {"created": 4, "digests": 2}
    assert sorted(mail.to[0] for mail in mailoutbox) == [
        "clinician@example.org",
        "colleague@example.org",
    ]
    for mail in mailoutbox:
        assert mail.body == (
            "1 review due today, 1 patient without a recent score. "
            "Sign in at https://trd.example.org to see them."
        )
        for secret in ("MRN-1", "sertraline"):
            assert secret not in mail.subject + mail.body


@pytest.mark.usefixtures("eager", "ongoing_trial")
def test_there_is_no_digest_unless_it_is_switched_on(clinician, mailoutbox):
    assert create_notifications_task.delay(MARKS[4].isoformat()).get()["digests"] == 0
    assert mailoutbox == []
