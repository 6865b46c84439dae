"""A user who forgot their password gets a single-use reset link by email."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

NEW_PASSWORD = "saffron-kettle-meadow-83"
LINK = re.compile(r"http://testserver(/accounts/password-reset/[^/\s]+/[^/\s]+/)")


def ask_for_reset(client, email):
    return client.post(reverse("accounts:password-reset"), {"email": email})


def set_password(client, link, password=NEW_PASSWORD, confirm=None):
    """Open the emailed link and submit a new password; returns the final response."""
    form_page = client.get(link, follow=True)
    if not form_page.context["validlink"]:
        return form_page
    return client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": confirm or password},
        follow=True,
    )


@pytest.mark.django_db
def test_the_sign_in_page_links_to_the_password_reset(client):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("accounts:password-reset")}">Forgot your password?' in page


@pytest.mark.django_db
def test_a_user_resets_their_password_through_the_emailed_link(client, clinician, mailoutbox):
    response = ask_for_reset(client, "clinician@example.org")

    assert response["Location"] == reverse("accounts:password-reset-done")
    [mail] = mailoutbox
    assert mail.to == ["clinician@example.org"]
    assert "Hello clinician," in mail.body
    done = set_password(client, LINK.search(mail.body).group(1))
    assert done.redirect_chain[-1][0] == reverse("accounts:password-reset-complete")
    assert "Your password is changed" in done.content.decode()
    assert Client().login(username="clinician", password=NEW_PASSWORD)
    assert not Client().login(username="clinician", password=PASSWORD)


@pytest.mark.django_db
def test_a_reset_link_works_only_once(client, clinician, mailoutbox):
    ask_for_reset(client, "clinician@example.org")
    link = LINK.search(mailoutbox[0].body).group(1)
    set_password(client, link)

    again = set_password(Client(), link, password="another-new-passphrase-5")

    assert "This link cannot be used" in again.content.decode()
    assert Client().login(username="clinician", password=NEW_PASSWORD)


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_email(client, clinician, mailoutbox):
    response = ask_for_reset(client, "nobody@example.org")
    assert response["Location"] == reverse("accounts:password-reset-done")
    assert mailoutbox == []


@pytest.mark.django_db
def test_an_inactive_user_gets_no_reset_email(client, clinician, mailoutbox):
    clinician.is_active = False
    clinician.save()
    ask_for_reset(client, "clinician@example.org")
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_new_password_must_pass_the_password_validators(client, clinician, mailoutbox):
    ask_for_reset(client, "clinician@example.org")

    response = set_password(client, LINK.search(mailoutbox[0].body).group(1), password="short-1")

    assert response.context["form"].errors["new_password2"]
    assert Client().login(username="clinician", password=PASSWORD)


@pytest.mark.django_db
def test_a_password_set_from_the_emailed_link_is_audited(client, clinician, mailoutbox):
    from audit.models import Action, AuditEvent

    ask_for_reset(client, "clinician@example.org")
    set_password(client, LINK.search(mailoutbox[0].body).group(1))

    event = AuditEvent.objects.get(
        action=Action.ACCOUNT_CHANGE, details__event="password_reset_by_email"
    )
    assert (event.actor, event.practice_id, event.object_id) == (
        "clinician",
        clinician.membership.practice_id,
        str(clinician.pk),
    )
