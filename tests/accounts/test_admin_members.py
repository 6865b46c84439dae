"""The practice admin manages the practice's users: roles, (de)activation, sign-in help, settings."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts import services, signin
from accounts.models import Invitation, Practice, Role
from audit.models import Action, AuditEvent
from audit.services import record_event
from tests.factories import PASSWORD, member

PATIENTS_API = "/api/v1/patients/"


def url(name, user=None):
    return reverse(f"accounts:{name}", args=[user.pk] if user is not None else [])


def account_events(**filters):
    return list(AuditEvent.objects.filter(action=Action.ACCOUNT_CHANGE, **filters).order_by("id"))


def user_events(user, event):
    return account_events(object_type="user", object_id=str(user.pk), details__event=event)


def roles_of(user):
    user.membership.refresh_from_db()
    return user.membership.roles


def give_two_factor(user):
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    StaticDevice.objects.create(user=user, name="recovery")


def lock_out(user):
    """Record enough failed sign-ins to lock the user's username."""
    for _ in range(signin.LOCKOUT_FAILURES):
        record_event(
            actor=user.username,
            practice_id=user.membership.practice_id,
            action=Action.LOGIN_FAILED,
            obj=user,
        )
    assert signin.locked_until(user.username) is not None


def signed_in_client(user) -> Client:
    other = Client()
    other.force_login(user)
    return other


def sessions_of(user) -> int:
    return sum(
        1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    )


def messages_on(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# The list ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_member_list_shows_roles_last_sign_in_two_factor_and_status(
    practice_admin, clinician, auditor, outsider, login
):
    clinician.last_login = datetime(2026, 3, 4, 9, 15, tzinfo=UTC)
    clinician.save()
    give_two_factor(clinician)
    auditor.is_active = False
    auditor.save()

    page = login(practice_admin).get(url("member-list")).content.decode()

    rows = {
        name: re.search(rf'<tr>\s*<td><a href="[^"]+">{name}</a>.*?</tr>', page, re.S).group(0)
        for name in ("admin", "clinician", "auditor")
    }
    assert "Clinician" in rows["clinician"] and "2026-03-04 09:15" in rows["clinician"]
    assert ">on<" in rows["clinician"] and ">active<" in rows["clinician"]
    assert "Auditor" in rows["auditor"] and ">inactive<" in rows["auditor"]
    assert "never" in rows["auditor"] and ">off<" in rows["auditor"]
    assert "Practice admin" in rows["admin"]
    assert "outsider" not in page


# Roles ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_changes_a_users_roles_and_the_event_records_old_and_new(
    practice_admin, clinician, login
):
    response = login(practice_admin).post(
        url("member-detail", clinician), {"roles": [Role.AUDITOR, Role.CLINICIAN]}
    )

    assert response.status_code == 302
    assert roles_of(clinician) == [Role.CLINICIAN, Role.AUDITOR]
    [event] = user_events(clinician, "roles_changed")
    assert (event.actor, event.practice_id) == ("admin", clinician.membership.practice_id)
    assert event.details["changes"] == {"roles": [["clinician"], ["clinician", "auditor"]]}


@pytest.mark.django_db
def test_a_role_change_applies_to_the_users_next_request(practice_admin, clinician, login):
    their_browser = signed_in_client(clinician)
    assert their_browser.get("/patients/").status_code == 200

    login(practice_admin).post(url("member-detail", clinician), {"roles": [Role.PRACTICE_ADMIN]})

    assert their_browser.get("/patients/").status_code == 403
    assert their_browser.get(url("member-list")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [[], ["superuser"]], ids=["none", "unknown"])
def test_roles_must_be_at_least_one_known_role(roles, practice_admin, clinician, login):
    response = login(practice_admin).post(url("member-detail", clinician), {"roles": roles})

    assert response.status_code == 200
    assert response.context["form"].errors["roles"]
    assert roles_of(clinician) == [Role.CLINICIAN]
    assert account_events() == []


@pytest.mark.django_db
def test_saving_the_same_roles_writes_no_event(practice_admin, clinician, login):
    login(practice_admin).post(url("member-detail", clinician), {"roles": [Role.CLINICIAN]})
    assert account_events() == []


# The last admin ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_last_admin_cannot_remove_their_own_admin_role(practice_admin, login):
    response = login(practice_admin).post(
        url("member-detail", practice_admin), {"roles": [Role.CLINICIAN]}
    )

    assert response.status_code == 200
    assert "the last active practice admin" in str(response.context["form"].non_field_errors())
    assert roles_of(practice_admin) == [Role.PRACTICE_ADMIN]
    assert account_events() == []


@pytest.mark.django_db
def test_the_last_admin_cannot_deactivate_themselves(practice_admin, login):
    client = login(practice_admin)
    response = client.post(url("member-deactivate", practice_admin), follow=True)

    assert "You are the last active practice admin" in " ".join(messages_on(response))
    practice_admin.refresh_from_db()
    assert practice_admin.is_active
    assert client.get(url("member-list")).status_code == 200
    assert account_events() == []


@pytest.mark.django_db
def test_an_inactive_admin_does_not_count_as_another_admin(practice, practice_admin, login):
    former = member(practice, Role.PRACTICE_ADMIN, username="former-admin")
    former.is_active = False
    former.save()

    login(practice_admin).post(url("member-detail", practice_admin), {"roles": [Role.AUDITOR]})

    assert roles_of(practice_admin) == [Role.PRACTICE_ADMIN]


@pytest.mark.django_db
def test_the_service_itself_refuses_to_remove_the_last_admin(practice_admin):
    membership = practice_admin.membership
    with pytest.raises(ValidationError, match="last active practice admin"):
        services.member_set_roles(admin=practice_admin, member=membership, roles=[Role.AUDITOR])
    with pytest.raises(ValidationError, match="last active practice admin"):
        services.member_deactivate(admin=practice_admin, member=membership)
    practice_admin.refresh_from_db()
    assert practice_admin.is_active and roles_of(practice_admin) == [Role.PRACTICE_ADMIN]


@pytest.mark.django_db
def test_an_admin_may_step_down_while_another_active_admin_remains(practice, practice_admin, login):
    member(practice, Role.PRACTICE_ADMIN, username="second-admin")
    client = login(practice_admin)

    response = client.post(url("member-detail", practice_admin), {"roles": [Role.CLINICIAN]})

    assert response["Location"] == reverse("home")
    assert roles_of(practice_admin) == [Role.CLINICIAN]
    assert client.get(url("member-list")).status_code == 403


@pytest.mark.django_db
def test_an_admin_may_deactivate_themselves_while_another_admin_remains(
    practice, practice_admin, login
):
    member(practice, Role.PRACTICE_ADMIN, username="second-admin")
    client = login(practice_admin)

    response = client.post(url("member-deactivate", practice_admin))

    assert response["Location"] == reverse("login")
    practice_admin.refresh_from_db()
    assert not practice_admin.is_active
    assert client.get(url("member-list"))["Location"].startswith(reverse("login"))


# Deactivation and reactivation ------------------------------------------------------------


@pytest.mark.django_db
def test_deactivation_ends_the_users_open_session_at_once(practice_admin, clinician, login):
    their_browser = signed_in_client(clinician)
    assert their_browser.get("/patients/").status_code == 200
    assert sessions_of(clinician) == 1

    login(practice_admin).post(url("member-deactivate", clinician))

    assert sessions_of(clinician) == 0
    response = their_browser.get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_deactivation_stops_the_users_api_token_at_once(practice_admin, clinician, login, api):
    their_api = api(clinician)
    assert their_api.get(PATIENTS_API).status_code == 200

    login(practice_admin).post(url("member-deactivate", clinician))

    assert their_api.get(PATIENTS_API).status_code == 401
    assert not AuthToken.objects.filter(user=clinician).exists()


@pytest.mark.django_db
def test_django_rejects_an_inactive_users_session_even_if_it_was_not_deleted(clinician):
    their_browser = signed_in_client(clinician)
    type(clinician).objects.filter(pk=clinician.pk).update(is_active=False)

    response = their_browser.get("/patients/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_deactivation_is_audited_with_old_and_new_state(practice_admin, clinician, login, api):
    api(clinician)
    signed_in_client(clinician)

    login(practice_admin).post(url("member-deactivate", clinician))

    [event] = user_events(clinician, "deactivated")
    assert event.actor == "admin"
    assert event.details["changes"] == {"is_active": [True, False]}
    assert (event.details["sessions_ended"], event.details["api_tokens_deleted"]) == (1, 1)


@pytest.mark.django_db
def test_deactivation_asks_for_confirmation_first(practice_admin, clinician, login):
    response = login(practice_admin).get(url("member-deactivate", clinician))

    assert "signed out everywhere at once" in response.content.decode()
    clinician.refresh_from_db()
    assert clinician.is_active


@pytest.mark.django_db
def test_a_deactivated_user_cannot_sign_in(practice_admin, clinician, login):
    login(practice_admin).post(url("member-deactivate", clinician))
    assert not Client().login(username="clinician", password=PASSWORD)


@pytest.mark.django_db
def test_reactivation_lets_the_user_sign_in_again_without_reviving_old_tokens(
    practice_admin, clinician, login, api
):
    api(clinician)
    client = login(practice_admin)
    client.post(url("member-deactivate", clinician))

    client.post(url("member-reactivate", clinician))

    clinician.refresh_from_db()
    assert clinician.is_active
    assert Client().login(username="clinician", password=PASSWORD)
    assert not AuthToken.objects.filter(user=clinician).exists()
    [event] = user_events(clinician, "reactivated")
    assert event.details["changes"] == {"is_active": [False, True]}


# Two-factor reset and password reset ------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_resets_a_users_two_factor_authentication(practice_admin, clinician, login):
    give_two_factor(clinician)

    login(practice_admin).post(url("member-reset-2fa", clinician))

    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert not StaticDevice.objects.filter(user=clinician).exists()
    [event] = user_events(clinician, "two_factor_reset")
    assert event.actor == "admin"
    assert event.details["changes"] == {"two_factor": [True, False]}


@pytest.mark.django_db
def test_resetting_two_factor_that_was_never_set_up_is_refused(practice_admin, clinician, login):
    response = login(practice_admin).post(url("member-reset-2fa", clinician), follow=True)

    assert "has not set up two-factor authentication" in " ".join(messages_on(response))
    assert user_events(clinician, "two_factor_reset") == []


@pytest.mark.django_db
def test_an_admin_sends_a_password_reset_email_whose_link_sets_a_new_password(
    practice_admin, clinician, login, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        login(practice_admin).post(url("member-password-reset", clinician))

    [mail] = mailoutbox
    assert mail.to == ["clinician@example.org"]
    link = re.search(r"http://testserver(/accounts/password-reset/\S+/)", mail.body).group(1)
    their_browser = Client()
    form_page = their_browser.get(link, follow=True)
    assert form_page.context["validlink"]
    their_browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase-7", "new_password2": "a-brand-new-passphrase-7"},
    )
    assert Client().login(username="clinician", password="a-brand-new-passphrase-7")
    [event] = user_events(clinician, "password_reset_sent")
    assert (event.actor, event.details["email"]) == ("admin", "clinician@example.org")


@pytest.mark.django_db
def test_the_reset_email_goes_only_to_the_chosen_user_when_another_account_shares_the_address(
    practice_admin, clinician, outsider, login, mailoutbox, django_capture_on_commit_callbacks
):
    outsider.email = clinician.email
    outsider.save()

    with django_capture_on_commit_callbacks(execute=True):
        login(practice_admin).post(url("member-password-reset", clinician))

    [mail] = mailoutbox
    assert "Hello clinician," in mail.body and "outsider" not in mail.body


@pytest.mark.django_db
def test_no_reset_email_for_an_inactive_user(
    practice_admin, clinician, login, mailoutbox, django_capture_on_commit_callbacks
):
    clinician.is_active = False
    clinician.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = login(practice_admin).post(url("member-password-reset", clinician), follow=True)

    assert "reactivate them first" in " ".join(messages_on(response))
    assert mailoutbox == []


@pytest.mark.django_db
def test_an_admin_unlocks_a_user_locked_out_by_failed_sign_ins(practice_admin, clinician, login):
    lock_out(clinician)
    client = login(practice_admin)
    assert ">locked<" in client.get(url("member-detail", clinician)).content.decode()

    client.post(url("member-unlock", clinician))

    assert signin.locked_until("clinician") is None
    response = Client().post(reverse("login"), {"username": "clinician", "password": PASSWORD})
    assert response.status_code == 302
    [event] = account_events(details__event="unlock")
    assert (event.actor, event.object_id) == ("admin", str(clinician.pk))


@pytest.mark.django_db
def test_unlocking_a_user_who_is_not_locked_is_refused(practice_admin, clinician, login):
    response = login(practice_admin).post(url("member-unlock", clinician), follow=True)
    assert "clinician is not locked" in " ".join(messages_on(response))
    assert account_events() == []


# Another practice's users -----------------------------------------------------------------

MEMBER_ACTIONS = [
    ("get", "member-detail"),
    ("post", "member-detail"),
    ("get", "member-deactivate"),
    ("post", "member-deactivate"),
    ("get", "member-reactivate"),
    ("post", "member-reactivate"),
    ("get", "member-reset-2fa"),
    ("post", "member-reset-2fa"),
    ("get", "member-password-reset"),
    ("post", "member-password-reset"),
    ("get", "member-unlock"),
    ("post", "member-unlock"),
]


def outsider_state(user):
    user.refresh_from_db()
    return {
        "roles": roles_of(user),
        "is_active": user.is_active,
        "devices": TOTPDevice.objects.filter(user=user).count(),
        "token": AuthToken.objects.filter(user=user).exists(),
        "sessions": sessions_of(user),
        "locked": signin.locked_until(user.username) is not None,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "name"), MEMBER_ACTIONS)
def test_an_admin_cannot_act_on_another_practices_user(
    method,
    name,
    practice_admin,
    outsider,
    login,
    api,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    give_two_factor(outsider)
    api(outsider)
    signed_in_client(outsider)
    lock_out(outsider)
    if name == "member-reactivate":
        outsider.is_active = False
        outsider.save()
    before = outsider_state(outsider)
    client = login(practice_admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client, method)(url(name, outsider), {"roles": [Role.PRACTICE_ADMIN]})

    assert response.status_code == 404
    assert outsider_state(outsider) == before
    assert mailoutbox == []
    assert account_events() == []


@pytest.mark.django_db
@pytest.mark.parametrize("pk", [0, 999_999, 2**70])
def test_unknown_user_ids_are_not_found(pk, practice_admin, login):
    assert login(practice_admin).get(f"/accounts/users/{pk}/").status_code == 404


# Practice settings ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_practice_starts_with_a_30_minute_idle_timeout_and_no_2fa_requirement(
    practice_admin, login
):
    form = login(practice_admin).get(url("practice-settings")).context["form"]
    assert (form["session_idle_minutes"].value(), form["require_2fa"].value()) == (30, False)


@pytest.mark.django_db
def test_an_admin_requires_two_factor_and_sets_the_idle_timeout_of_their_own_practice(
    practice, other_practice, practice_admin, login
):
    response = login(practice_admin).post(
        url("practice-settings"), {"require_2fa": "on", "session_idle_minutes": "60"}
    )

    assert response.status_code == 302
    practice.refresh_from_db()
    other_practice.refresh_from_db()
    assert (practice.require_2fa, practice.session_idle_minutes) == (True, 60)
    assert (other_practice.require_2fa, other_practice.session_idle_minutes) == (False, 30)
    [event] = account_events(object_type="practice")
    assert (event.actor, event.practice_id) == ("admin", practice.pk)
    assert event.details["changes"] == {
        "require_2fa": [False, True],
        "session_idle_minutes": [30, 60],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("minutes", ["4", "721", "", "half an hour"])
def test_an_idle_timeout_outside_5_to_720_minutes_is_refused_and_nothing_is_saved(
    minutes, practice, practice_admin, login
):
    response = login(practice_admin).post(
        url("practice-settings"), {"require_2fa": "on", "session_idle_minutes": minutes}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["session_idle_minutes"]
    practice.refresh_from_db()
    assert (practice.require_2fa, practice.session_idle_minutes) == (False, 30)
    assert account_events() == []


@pytest.mark.django_db
@pytest.mark.parametrize("minutes", [5, 720])
def test_the_idle_timeout_limits_themselves_are_allowed(minutes, practice, practice_admin, login):
    login(practice_admin).post(url("practice-settings"), {"session_idle_minutes": minutes})
    practice.refresh_from_db()
    assert practice.session_idle_minutes == minutes


@pytest.mark.django_db
def test_settings_posted_for_another_practice_change_only_the_admins_own(
    practice, other_practice, practice_admin, login
):
    login(practice_admin).post(
        url("practice-settings"),
        {"session_idle_minutes": "45", "practice": other_practice.pk, "id": other_practice.pk},
    )
    assert Practice.objects.get(pk=practice.pk).session_idle_minutes == 45
    assert Practice.objects.get(pk=other_practice.pk).session_idle_minutes == 30


# Who may open the admin pages -------------------------------------------------------------


def admin_pages(target, invitation):
    """Every admin page, as (method, url)."""
    pages = [
        ("get", url("member-list")),
        ("get", url("invitation-list")),
        ("get", url("invitation-add")),
        ("post", url("invitation-add")),
        ("get", url("practice-settings")),
        ("post", url("practice-settings")),
    ]
    for method, name in MEMBER_ACTIONS:
        pages.append((method, url(name, target)))
    for name in ("invitation-resend", "invitation-revoke"):
        path = reverse(f"accounts:{name}", args=[invitation.pk])
        pages += [("get", path), ("post", path)]
    return pages


@pytest.fixture
def open_invitation(practice, practice_admin):
    return Invitation.objects.create(
        practice=practice,
        email="new@example.org",
        roles=[Role.CLINICIAN],
        token_hash=services.token_hash("a-token"),
        invited_by=practice_admin,
        expires_at=timezone.now() + timedelta(hours=72),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.AUDITOR])
def test_users_without_the_admin_role_get_403_on_every_admin_page(
    role,
    practice,
    colleague,
    open_invitation,
    login,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    client = login(member(practice, role, username="not-an-admin"))
    data = {"roles": [Role.PRACTICE_ADMIN], "email": "x@example.org", "session_idle_minutes": 5}

    for method, path in admin_pages(colleague, open_invitation):
        with django_capture_on_commit_callbacks(execute=True):
            response = getattr(client, method)(path, data)
        assert response.status_code == 403, (method, path)

    assert roles_of(colleague) == [Role.CLINICIAN]
    colleague.refresh_from_db()
    assert colleague.is_active
    assert Practice.objects.get(pk=practice.pk).session_idle_minutes == 30
    assert Invitation.objects.count() == 1
    open_invitation.refresh_from_db()
    assert open_invitation.revoked_at is None
    assert mailoutbox == []
    assert account_events() == []


@pytest.mark.django_db
def test_visitors_who_are_not_signed_in_are_sent_to_sign_in(colleague, open_invitation, client):
    for method, path in admin_pages(colleague, open_invitation):
        response = getattr(client, method)(path)
        assert response.status_code == 302, (method, path)
        assert response["Location"].startswith(reverse("login"))


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>")


@pytest.mark.django_db
def test_account_pages_carry_no_inline_styles_or_scripts(
    colleague, open_invitation, practice_admin, login
):
    """The Content-Security-Policy allows styles and scripts from our own files only."""
    give_two_factor(colleague)
    client = login(practice_admin)
    responses = [
        client.get(path)
        for method, path in admin_pages(colleague, open_invitation)
        if method == "get"
    ]
    responses.append(client.post(url("practice-settings"), {"session_idle_minutes": "4"}))
    responses.append(client.post(url("invitation-add"), {"email": "nope"}))
    visitor = Client()
    responses += [
        visitor.get(reverse("accounts:invitation-accept", args=["a-token"])),
        visitor.post(reverse("accounts:invitation-accept", args=["a-token"]), {"username": ""}),
        visitor.get(reverse("accounts:invitation-accept", args=["unknown"])),
        visitor.get(reverse("accounts:password-reset")),
        visitor.get(reverse("accounts:password-reset-done")),
        visitor.get(reverse("accounts:password-reset-complete")),
        visitor.get(reverse("accounts:password-reset-confirm", args=["MQ", "bad-token"])),
        visitor.get(reverse("login")),
    ]
    for response in responses:
        html = response.content.decode()
        assert response.status_code in (200, 404), response.request["PATH_INFO"]
        assert " style=" not in html, response.request["PATH_INFO"]
        assert not INLINE_SCRIPT.findall(html), response.request["PATH_INFO"]
