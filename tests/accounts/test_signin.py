"""Signing in and out: audit events, lockout after repeated failures, idle timeout."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import signin
from accounts.middleware import IdleTimeoutMiddleware
from audit.models import Action, AuditEvent


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def actions(username):
    return list(
        AuditEvent.objects.filter(actor=username).order_by("id").values_list("action", flat=True)
    )


@pytest.mark.django_db
def test_a_successful_sign_in_is_audited_with_practice_and_ip(client, clinician, password):
    response = sign_in(client, "clinician", password)
    assert response.status_code == 302
    login = AuditEvent.objects.get(action=Action.LOGIN)
    assert (login.actor, login.practice_id, login.ip) == (
        "clinician",
        clinician.membership.practice_id,
        "127.0.0.1",
    )


@pytest.mark.django_db
def test_a_failed_sign_in_is_audited_even_for_an_unknown_username(client, clinician):
    sign_in(client, "clinician", "wrong-password")
    sign_in(client, "nobody", "wrong-password")
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("id")
    assert [(e.actor, e.practice_id) for e in failed] == [
        ("clinician", clinician.membership.practice_id),
        ("nobody", None),
    ]


@pytest.mark.django_db
def test_signing_out_is_audited(client, clinician, password):
    sign_in(client, "clinician", password)
    client.post(reverse("logout"))
    assert actions("clinician") == [Action.LOGIN, Action.LOGOUT]


@pytest.mark.django_db
def test_five_failures_lock_the_username_even_with_the_right_password(client, clinician, password):
    for _ in range(4):
        sign_in(client, "clinician", "wrong-password")
    assert signin.locked_until("clinician") is None
    sign_in(client, "clinician", "wrong-password")
    assert signin.locked_until("clinician") is not None

    response = sign_in(client, "clinician", password)
    assert response.status_code == 200
    assert "locked after repeated failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert actions("clinician") == [Action.LOGIN_FAILED] * 5 + [Action.LOCKOUT, Action.LOCKOUT]


@pytest.mark.django_db
def test_four_failures_do_not_lock(client, clinician, password):
    for _ in range(4):
        sign_in(client, "clinician", "wrong-password")
    assert sign_in(client, "clinician", password).status_code == 302


@pytest.mark.django_db
def test_the_lock_ends_after_fifteen_minutes(client, clinician, password):
    for _ in range(5):
        sign_in(client, "clinician", "wrong-password")
    later = timezone.now() + timedelta(minutes=15, seconds=1)
    with mock.patch("accounts.signin.timezone.now", return_value=later):
        assert signin.locked_until("clinician") is None
    almost = timezone.now() + timedelta(minutes=14)
    with mock.patch("accounts.signin.timezone.now", return_value=almost):
        assert signin.locked_until("clinician") is not None


@pytest.mark.django_db
def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(clinician, rf):
    request = rf.post("/")
    start = timezone.now()
    for minute in (0, 4, 8, 12, 16):
        with mock.patch(
            "django.utils.timezone.now", return_value=start + timedelta(minutes=minute)
        ):
            with pytest.raises(signin.SigninFailed):
                signin.check_credentials(request, "clinician", "wrong", channel="web")
    with mock.patch("accounts.signin.timezone.now", return_value=start + timedelta(minutes=16)):
        assert signin.locked_until("clinician") is None


@pytest.mark.django_db
def test_a_success_starts_the_count_afresh(client, clinician, password):
    for _ in range(4):
        sign_in(client, "clinician", "wrong-password")
    sign_in(client, "clinician", password)
    client.logout()
    sign_in(client, "clinician", "wrong-password")
    assert signin.locked_until("clinician") is None


@pytest.mark.django_db
def test_an_admin_unlock_lifts_the_lock(client, clinician, practice_admin, password):
    for _ in range(5):
        sign_in(client, "clinician", "wrong-password")
    signin.unlock(admin=practice_admin, username="clinician")
    assert signin.locked_until("clinician") is None
    assert sign_in(client, "clinician", password).status_code == 302
    unlock = AuditEvent.objects.get(action=Action.ACCOUNT_CHANGE, details__event="unlock")
    assert unlock.actor == "admin" and unlock.details["username"] == "clinician"


@pytest.mark.django_db
def test_the_lock_is_per_username(client, clinician, colleague, password):
    for _ in range(5):
        sign_in(client, "clinician", "wrong-password")
    assert sign_in(client, "colleague", password).status_code == 302


@pytest.mark.django_db
def test_an_idle_session_is_signed_out_after_the_practices_timeout(client, clinician, password):
    practice = clinician.membership.practice
    practice.session_idle_minutes = 10
    practice.save()
    sign_in(client, "clinician", password)
    assert client.get("/patients/").status_code == 200

    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] -= 10 * 60 + 1
    session.save()
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get("/patients/").status_code == 302
    idle = AuditEvent.objects.get(action=Action.LOGOUT)
    assert idle.details == {"reason": "idle_timeout"}


@pytest.mark.django_db
def test_an_active_session_within_the_timeout_stays(client, clinician, password):
    sign_in(client, "clinician", password)
    client.get("/")
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] -= 29 * 60
    session.save()
    assert client.get("/patients/").status_code == 200


TOKEN_URL = "/api/v1/auth/token/"


@pytest.mark.django_db
def test_the_token_endpoint_locks_after_five_failures_too(api, clinician, password):
    client = api()
    for _ in range(5):
        assert (
            client.post(
                TOKEN_URL, {"username": "clinician", "password": "nope"}, format="json"
            ).status_code
            == 400
        )
    response = client.post(
        TOKEN_URL, {"username": "clinician", "password": password}, format="json"
    )
    assert response.status_code == 400
    assert "locked" in response.json()["non_field_errors"][0]
    assert "token" not in response.json()
    assert AuditEvent.objects.filter(action=Action.LOCKOUT, actor="clinician").exists()


@pytest.mark.django_db
def test_web_and_api_failures_count_together(api, client, clinician, password):
    for _ in range(3):
        sign_in(client, "clinician", "wrong-password")
    for _ in range(2):
        api().post(TOKEN_URL, {"username": "clinician", "password": "nope"}, format="json")
    assert "locked after repeated" in sign_in(client, "clinician", password).content.decode()


@pytest.mark.django_db
def test_a_successful_token_request_is_audited_as_a_sign_in(api, clinician, password):
    response = api().post(TOKEN_URL, {"username": "clinician", "password": password}, format="json")
    assert response.status_code == 200
    login = AuditEvent.objects.get(action=Action.LOGIN, actor="clinician")
    assert login.details == {"channel": "api"}
