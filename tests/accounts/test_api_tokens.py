"""API tokens: a digest at rest, shown once, expiring, and revoked when they should be."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from accounts import services, signin, twofactor
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
        created=created, expiry=timezone.now() + timedelta(minutes=10))

    assert works(api, token)

    assert AuthToken.objects.get(user=clinician).expiry == created + limit


def test_a_password_reset_revokes_the_tokens(api, token, clinician):
    signin.record_password_reset(None, clinician)

    assert not works(api, token)


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

    services.practice_update_settings(admin=practice_admin, require_2fa=True,
                                      session_idle_minutes=30)

    assert not works(api, token)
    assert AuthToken.objects.filter(user=colleague).exists() and colleague_token
