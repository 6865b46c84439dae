"""API tokens: a digest at rest, shown once, expiring, and revoked when they should be."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from accounts import services
from accounts.twofactor import devices as twofactor
from tests.accounts.test_twofactor import enrol

PATIENTS_URL = "/api/v1/patients/"


@pytest.fixture
def token(clinician):
    return AuthToken.objects.create(user=clinician)[1]


def works(api, token) -> bool:
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(PATIENTS_URL).status_code == 200


def test_an_expired_token_no_longer_works(api, token, clinician):
    assert works(api, token)
    AuthToken.objects.filter(user=clinician).update(expiry=timezone.now() - timedelta(seconds=1))

    assert not works(api, token)


def test_use_extends_a_token_only_up_to_the_absolute_limit(api, token, clinician):
    from knox.settings import knox_settings

    limit = knox_settings.AUTO_REFRESH_MAX_TTL
    created = timezone.now() - limit + timedelta(hours=2)  # two hours of its life are left
    AuthToken.objects.filter(user=clinician).update(
        created=created, expiry=timezone.now() + timedelta(minutes=10)
    )

    assert works(api, token)

    assert AuthToken.objects.get(user=clinician).expiry == created + limit


def test_a_password_reset_by_emailed_link_revokes_the_tokens(
    api, token, clinician, client, mailoutbox
):
    from tests.accounts.test_password_reset import LINK, ask_for_reset, set_password

    ask_for_reset(client, clinician.email)
    set_password(client, LINK.search(mailoutbox[0].body).group(1))

    assert not works(api, token)


def test_a_password_changed_on_the_password_page_revokes_the_tokens(
    api, token, clinician, login, password
):
    response = login(clinician).post(
        "/accounts/password/",
        {
            "old_password": password,
            "new_password1": "quince-harbour-lantern-41",
            "new_password2": "quince-harbour-lantern-41",
        },
    )

    assert response.status_code == 302
    assert not works(api, token)


def test_a_password_set_any_other_way_revokes_the_tokens(api, token, clinician):
    """The admin site's and `manage.py changepassword`'s path: set_password, then save."""
    clinician.set_password("quince-harbour-lantern-41")
    clinician.save()

    assert not works(api, token)


def test_saving_a_user_without_a_new_password_keeps_the_tokens(api, token, clinician):
    clinician.first_name = "Ada"
    clinician.save()

    assert works(api, token)


def test_deactivation_revokes_the_tokens(api, token, clinician, practice_admin):
    services.member_deactivate(admin=practice_admin, member=clinician.membership)

    assert not works(api, token)


def test_a_second_factor_reset_revokes_the_tokens(api, token, clinician):
    enrol(clinician)
    twofactor.reset_two_factor(clinician)

    assert not works(api, token)


def test_requiring_two_factor_revokes_the_tokens_of_members_without_it(
    api, token, clinician, colleague, practice_admin
):
    enrol(colleague)
    colleague_token = AuthToken.objects.create(user=colleague)[1]

    services.practice_update_settings(
        admin=practice_admin, require_2fa=True, session_idle_minutes=30
    )

    assert not works(api, token)
    assert AuthToken.objects.filter(user=colleague).exists() and colleague_token


def test_owners_list_their_tokens_without_seeing_them_and_revoke_one(api, clinician, colleague):
    first = AuthToken.objects.create(user=clinician)[1]
    second = AuthToken.objects.create(user=clinician)[1]
    AuthToken.objects.create(user=colleague)
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")

    listed = client.get("/api/v1/auth/tokens/").json()

    assert len(listed) == 2 and all(first not in str(item) for item in listed)
    assert sorted(item["current"] for item in listed) == [False, True]
    other = next(item["id"] for item in listed if not item["current"])
    assert client.delete(f"/api/v1/auth/tokens/{other}/").status_code == 204
    assert not works(api, second) and works(api, first)
    colleague_key = AuthToken.objects.get(user=colleague).token_key
    assert client.delete(f"/api/v1/auth/tokens/{colleague_key}/").status_code == 404


def test_the_practice_admin_revokes_a_members_tokens_and_it_is_audited(
    api, login, token, clinician, practice_admin
):
    from audit.models import AuditEvent

    page = login(practice_admin).get(f"/accounts/users/{clinician.pk}/")
    assert "1 API token in use" in page.content.decode()

    response = login(practice_admin).post(f"/accounts/users/{clinician.pk}/revoke-tokens/")

    assert response.status_code == 302 and not works(api, token)
    event = AuditEvent.objects.get(details__event="api_tokens_revoked")
    assert (event.actor, event.details["api_tokens_deleted"]) == ("admin", 1)
