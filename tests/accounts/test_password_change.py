"""A signed-in user changes their own password: with the current one, audited, and the old
password's other sessions and API tokens end."""

import pytest
from django.test import Client

from audit.models import Action, AuditEvent

URL = "/accounts/password/"
NEW = "quince-harbour-lantern-41"


def change(client, old, new=NEW, confirm=None):
    return client.post(
        URL, {"old_password": old, "new_password1": new, "new_password2": confirm or new}
    )


def test_the_page_needs_a_signed_in_user(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_navigation_links_to_the_password_page(login, clinician):
    page = login(clinician).get("/").content.decode()

    assert f'href="{URL}"' in page


def test_a_user_changes_their_password_and_stays_signed_in(login, clinician, password):
    client = login(clinician)

    response = change(client, password)

    assert response.status_code == 302
    clinician.refresh_from_db()
    assert clinician.check_password(NEW)
    assert client.get("/patients/").status_code == 200  # this session carries on


def test_other_sessions_are_signed_out(clinician, password):
    elsewhere, here = Client(), Client()
    elsewhere.force_login(clinician)
    here.force_login(clinician)

    change(here, password)

    assert elsewhere.get("/patients/").status_code == 302


def test_the_change_is_audited_without_the_password(login, clinician, password):
    change(login(clinician), password)

    event = AuditEvent.objects.get(action=Action.ACCOUNT_CHANGE, object_id=str(clinician.pk))
    assert event.details == {"event": "password_changed"}
    assert event.actor == clinician.username
    assert NEW not in str(event.details) and password not in str(event.details)


@pytest.mark.parametrize(
    "old, new, confirm, field",
    [
        ("not-my-password", NEW, NEW, "old_password"),
        (None, "short", "short", "new_password2"),
        (None, NEW, NEW + "x", "new_password2"),
    ],
)
def test_a_refused_change_changes_nothing(login, clinician, password, old, new, confirm, field):
    response = change(login(clinician), old or password, new, confirm)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    clinician.refresh_from_db()
    assert clinician.check_password(password)
    assert not AuditEvent.objects.filter(action=Action.ACCOUNT_CHANGE).exists()


def test_wrong_current_passwords_count_toward_the_lockout(login, clinician, password):
    client = login(clinician)
    for _ in range(5):
        change(client, "not-my-password")

    response = change(client, password)  # the right one, after five wrong

    assert "locked" in " ".join(response.context["form"].errors["old_password"]).lower()
    clinician.refresh_from_db()
    assert clinician.check_password(password)
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, actor=clinician.username)
    assert failures.count() == 5
    assert failures.first().details["channel"] == "password_change"
