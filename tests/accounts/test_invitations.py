"""Invitations: an admin invites by email, the invitee sets a password through a single-use link."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Role
from audit.models import Action, AuditEvent
from tests.factories import member

NEW_PASSWORD = "glacier-lantern-orbit-42"
LINK = re.compile(r"http://testserver(/accounts/invite/([\w-]+)/)")


@pytest.fixture
def invite(login, practice_admin, mailoutbox, django_capture_on_commit_callbacks):
    """Invite `email` through the admin's form; returns the link path from the email sent."""

    def send(email="new.person@example.org", roles=(Role.CLINICIAN,), **extra):
        sent_before = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = login(practice_admin).post(
                reverse("accounts:invitation-add"),
                {"email": email, "roles": list(roles), **extra},
            )
        assert response.status_code == 302, response.context["form"].errors
        assert len(mailoutbox) == sent_before + 1
        return LINK.search(mailoutbox[-1].body).group(1)

    return send


def accept(link, username="newperson", password=NEW_PASSWORD, confirm=None, client=None):
    return (client or Client()).post(
        link,
        {
            "username": username,
            "password": password,
            "password_confirm": password if confirm is None else confirm,
        },
    )


def invitation_events(invitation, event):
    return list(
        AuditEvent.objects.filter(
            action=Action.ACCOUNT_CHANGE,
            object_type="invitation",
            object_id=str(invitation.pk),
            details__event=event,
        )
    )


def users_named(username):
    return get_user_model().objects.filter(username=username)


def resend(client, invitation, mailoutbox, capture):
    with capture(execute=True):
        client.post(reverse("accounts:invitation-resend", args=[invitation.pk]))
    return LINK.search(mailoutbox[-1].body).group(1)


# The whole path ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invitee_accepts_through_the_emailed_link_and_signs_in(invite, practice, mailoutbox):
    link = invite(roles=[Role.CLINICIAN, Role.AUDITOR])

    [mail] = mailoutbox
    assert mail.to == ["new.person@example.org"]
    assert "Test Practice" in mail.subject
    invitation = Invitation.objects.get()
    assert (invitation.practice, invitation.roles) == (practice, ["clinician", "auditor"])

    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert "Join Test Practice" in page.content.decode()
    response = accept(link, client=visitor)
    assert response["Location"] == reverse("login")

    user = users_named("newperson").get()
    assert user.email == "new.person@example.org"
    assert (user.membership.practice, user.membership.roles) == (practice, ["clinician", "auditor"])
    invitation.refresh_from_db()
    assert invitation.accepted_user == user and invitation.accepted_at is not None
    signed_in = visitor.post(
        reverse("login"), {"username": "newperson", "password": NEW_PASSWORD}, follow=True
    )
    assert signed_in.context["user"] == user
    assert "Welcome, newperson" in signed_in.content.decode()


@pytest.mark.django_db
def test_the_link_expires_72_hours_after_it_is_sent(invite):
    invite()
    invitation = Invitation.objects.get()
    expected = timezone.now() + timedelta(hours=72)
    assert abs(invitation.expires_at - expected) < timedelta(minutes=1)


@pytest.mark.django_db
def test_only_the_hash_of_the_token_is_stored(invite):
    link = invite()
    token = LINK.search(f"http://testserver{link}").group(2)
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.values().get())
    assert token not in str(list(AuditEvent.objects.values()))


@pytest.mark.django_db
def test_the_email_leaves_only_after_the_transaction_commits(
    practice_admin, rf, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.invitation_create(
            admin=practice_admin,
            email="later@example.org",
            roles=[Role.CLINICIAN],
            request=rf.get("/"),
        )
        assert mailoutbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert mailoutbox[0].to == ["later@example.org"]


@pytest.mark.django_db
def test_invitation_and_acceptance_are_audited(invite, practice):
    link = invite()
    accept(link)

    invitation = Invitation.objects.get()
    [created] = invitation_events(invitation, "invitation_created")
    assert (created.actor, created.practice_id) == ("admin", practice.pk)
    assert created.details["changes"]["email"] == [None, "new.person@example.org"]
    assert created.details["changes"]["roles"] == [None, ["clinician"]]
    [accepted] = invitation_events(invitation, "invitation_accepted")
    assert accepted.actor == "newperson"
    assert accepted.details["changes"]["accepted_user"] == [None, "newperson"]
    user = users_named("newperson").get()
    [created_user] = AuditEvent.objects.filter(
        object_type="user", object_id=str(user.pk), details__event="user_created"
    )
    assert created_user.practice_id == practice.pk
    assert created_user.details["changes"]["roles"] == [None, ["clinician"]]


# Links that must not work -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_expired_link_is_refused(invite):
    link = invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    page = Client().get(link)
    response = accept(link)

    assert page.status_code == response.status_code == 410
    assert "expired" in response.content.decode()
    assert not users_named("newperson").exists()


@pytest.mark.django_db
def test_a_revoked_link_is_refused(invite, login, practice_admin):
    link = invite()
    invitation = Invitation.objects.get()

    login(practice_admin).post(reverse("accounts:invitation-revoke", args=[invitation.pk]))

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    response = accept(link)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert not users_named("newperson").exists()
    [event] = invitation_events(invitation, "invitation_revoked")
    assert event.actor == "admin" and event.details["changes"]["revoked_at"][0] is None


@pytest.mark.django_db
def test_a_used_link_cannot_be_used_again(invite):
    link = invite()
    accept(link, username="first")

    page = Client().get(link)
    response = accept(link, username="second")

    assert page.status_code == response.status_code == 410
    assert "already been used" in response.content.decode()
    assert not users_named("second").exists()


@pytest.mark.django_db
def test_an_unknown_link_is_not_found(db):
    response = accept("/accounts/invite/not-a-real-token/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


@pytest.mark.django_db
def test_resending_kills_the_old_link_and_the_new_one_works(
    invite, login, practice_admin, mailoutbox, django_capture_on_commit_callbacks
):
    old_link = invite()
    invitation = Invitation.objects.get()
    Invitation.objects.update(expires_at=timezone.now() + timedelta(hours=1))

    new_link = resend(
        login(practice_admin), invitation, mailoutbox, django_capture_on_commit_callbacks
    )

    assert new_link != old_link
    assert len(mailoutbox) == 2 and mailoutbox[1].to == ["new.person@example.org"]
    assert accept(old_link).status_code == 404
    assert accept(new_link).status_code == 302
    assert users_named("newperson").exists()
    [event] = invitation_events(invitation, "invitation_resent")
    old_expiry, new_expiry = event.details["changes"]["expires_at"]
    assert new_expiry > old_expiry


@pytest.mark.django_db
def test_resending_an_expired_invitation_gives_it_another_72_hours(
    invite, login, practice_admin, mailoutbox, django_capture_on_commit_callbacks
):
    invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(days=1))
    invitation = Invitation.objects.get()

    new_link = resend(
        login(practice_admin), invitation, mailoutbox, django_capture_on_commit_callbacks
    )

    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timedelta(hours=71)
    assert Client().get(new_link).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["invitation-resend", "invitation-revoke"])
def test_an_accepted_invitation_can_be_neither_resent_nor_revoked(
    name, invite, login, practice_admin, mailoutbox, django_capture_on_commit_callbacks
):
    accept(invite())
    invitation = Invitation.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = login(practice_admin).post(
            reverse(f"accounts:{name}", args=[invitation.pk]), follow=True
        )

    assert "was accepted" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert len(mailoutbox) == 1


# What the invitee chooses -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("taken", ["clinician", "CLINICIAN"])
def test_the_invitee_must_choose_a_username_nobody_has(taken, invite, clinician):
    link = invite()

    response = accept(link, username=taken)

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert get_user_model().objects.filter(username__iexact="clinician").count() == 1
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    ["short-1", "password1234", "12345678901234", "new.person@example.org"],
    ids=["too-short", "common", "numeric", "like-the-email"],
)
def test_the_invitees_password_must_pass_the_password_validators(password, invite):
    link = invite()

    response = accept(link, password=password)

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not users_named("newperson").exists()
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.django_db
def test_the_two_passwords_must_match(invite):
    response = accept(invite(), confirm=NEW_PASSWORD + "x")
    assert response.context["form"].errors["password_confirm"]
    assert not users_named("newperson").exists()


@pytest.mark.django_db
def test_accepting_while_signed_in_as_someone_else_signs_them_out(invite, clinician):
    link = invite()
    browser = Client()
    browser.force_login(clinician)

    response = accept(link, client=browser)

    assert response["Location"] == reverse("login")
    assert browser.get("/patients/")["Location"].startswith(reverse("login"))


# What the admin may invite ----------------------------------------------------------------


@pytest.mark.django_db
def test_inviting_the_address_of_someone_already_in_the_practice_is_refused(
    practice_admin, clinician, login, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(practice_admin).post(
            reverse("accounts:invitation-add"),
            {"email": "Clinician@Example.org", "roles": [Role.AUDITOR]},
        )

    assert "already has this email address" in str(response.context["form"].errors["email"])
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_second_open_invitation_for_the_same_address_is_refused(invite, login, practice_admin):
    invite("twice@example.org")

    response = login(practice_admin).post(
        reverse("accounts:invitation-add"), {"email": "twice@example.org", "roles": ["auditor"]}
    )

    assert "re-send that one instead" in str(response.context["form"].errors["email"])
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [[], ["owner"]], ids=["none", "unknown"])
def test_an_invitation_needs_known_roles(roles, practice_admin, login, mailoutbox):
    response = login(practice_admin).post(
        reverse("accounts:invitation-add"), {"email": "x@example.org", "roles": roles}
    )
    assert response.context["form"].errors["roles"]
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_invitation_list_shows_each_invitations_state(invite, login, practice_admin):
    invite("open@example.org")
    invite("expired@example.org")
    Invitation.objects.filter(email="expired@example.org").update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    accept(invite("accepted@example.org"), username="joined")

    page = login(practice_admin).get(reverse("accounts:invitation-list")).content.decode()

    def row(email):
        return re.search(rf"<tr>\s*<td>{re.escape(email)}</td>.*?</tr>", page, re.S).group(0)

    assert ">open<" in row("open@example.org") and "Re-send" in row("open@example.org")
    assert ">expired<" in row("expired@example.org") and "Re-send" in row("expired@example.org")
    assert ">accepted<" in row("accepted@example.org") and "joined" in row("accepted@example.org")
    assert "Re-send" not in row("accepted@example.org")


# Another practice's invitations -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", ["invitation-resend", "invitation-revoke"])
def test_an_admin_cannot_resend_or_revoke_another_practices_invitation(
    method,
    name,
    other_practice,
    practice_admin,
    login,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    other_admin = member(other_practice, Role.PRACTICE_ADMIN, username="other-admin")
    theirs = Invitation.objects.create(
        practice=other_practice,
        email="theirs@example.org",
        roles=[Role.CLINICIAN],
        token_hash=services.token_hash("their-token"),
        invited_by=other_admin,
        expires_at=timezone.now() + timedelta(hours=5),
    )
    before = Invitation.objects.values().get(pk=theirs.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(login(practice_admin), method)(
            reverse(f"accounts:{name}", args=[theirs.pk])
        )

    assert response.status_code == 404
    assert Invitation.objects.values().get(pk=theirs.pk) == before
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action=Action.ACCOUNT_CHANGE).exists()


@pytest.mark.django_db
def test_another_practices_invitations_are_not_listed(other_practice, practice_admin, login):
    Invitation.objects.create(
        practice=other_practice,
        email="theirs@example.org",
        roles=[Role.CLINICIAN],
        token_hash=services.token_hash("their-token"),
        expires_at=timezone.now(),
    )
    page = login(practice_admin).get(reverse("accounts:invitation-list")).content.decode()
    assert "theirs@example.org" not in page


@pytest.mark.django_db
def test_an_invitation_always_joins_the_inviting_admins_practice(invite, practice, other_practice):
    accept(invite(practice=other_practice.pk, practice_id=other_practice.pk))
    assert users_named("newperson").get().membership.practice == practice
