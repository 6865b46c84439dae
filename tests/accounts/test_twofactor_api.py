"""The API token endpoint asks for the second factor ("otp") once a user has one."""

import pytest
from django.urls import reverse
from knox.models import AuthToken

from tests.api.helpers import PATIENTS_URL, TOKEN_URL, assert_field_errors
from tests.factories import PASSWORD

from .test_twofactor import code_for, enrol


@pytest.fixture
def anonymous(api, db):
    return api()


def ask_for_token(client, username="clinician", password=PASSWORD, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": password, **extra}, format="json"
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_user_with_two_factor_gets_no_token_without_an_otp(anonymous, clinician):
    enrol(clinician)

    response = ask_for_token(anonymous)

    assert assert_field_errors(response, "otp") == {
        "otp": ["Enter the code from your authenticator app."]
    }
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_an_empty_otp_counts_as_missing(anonymous, clinician):
    enrol(clinician)

    response = ask_for_token(anonymous, otp="")

    assert assert_field_errors(response, "otp") == {
        "otp": ["Enter the code from your authenticator app."]
    }
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_a_user_with_two_factor_gets_no_token_with_a_wrong_otp(anonymous, clinician):
    device, _ = enrol(clinician)

    response = ask_for_token(anonymous, otp=wrong(code_for(device, 1)))

    assert assert_field_errors(response, "otp") == {"otp": ["This code is not valid."]}
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_the_current_otp_gets_a_token_that_works(anonymous, clinician):
    device, _ = enrol(clinician)

    response = ask_for_token(anonymous, otp=code_for(device, 1))

    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert AuthToken.objects.filter(user=clinician).count() == 1
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anonymous.get(PATIENTS_URL).status_code == 200


def test_an_otp_sent_as_a_json_number_is_accepted(anonymous, clinician):
    device, _ = enrol(clinician)

    response = ask_for_token(anonymous, otp=int(code_for(device, 1)))

    assert response.status_code == 200, response.content


def test_a_recovery_code_gets_a_token_once(anonymous, clinician):
    _, codes = enrol(clinician)

    assert ask_for_token(anonymous, otp=codes[0]).status_code == 200
    AuthToken.objects.filter(user=clinician).delete()

    assert_field_errors(ask_for_token(anonymous, otp=codes[0]), "otp")
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_a_user_without_two_factor_gets_a_token_as_before(anonymous, clinician):
    response = ask_for_token(anonymous)

    assert response.status_code == 200
    assert set(response.json()) == {"token", "expiry"}
    assert AuthToken.objects.filter(user=clinician).count() == 1


def test_a_wrong_password_is_refused_without_revealing_two_factor(anonymous, clinician):
    device, _ = enrol(clinician)

    response = ask_for_token(anonymous, password="not-the-password", otp=code_for(device, 1))

    body = assert_field_errors(response, "non_field_errors")
    assert "otp" not in body
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_an_outsiders_code_does_not_get_a_token_for_this_user(anonymous, clinician, outsider):
    enrol(clinician)
    outsiders_device, _ = enrol(outsider)

    response = ask_for_token(anonymous, otp=code_for(outsiders_device, 1))

    assert_field_errors(response, "otp")
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_a_web_session_that_has_not_passed_the_second_factor_cannot_read_the_api(
    login, clinician, patient
):
    enrol(clinician)
    client = login(clinician)

    response = client.get(PATIENTS_URL)

    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]
    assert "MRN-1" not in response.content.decode()


def test_a_verified_web_session_reads_the_api(login, clinician, patient):
    device, _ = enrol(clinician)
    client = login(clinician)
    client.post(reverse("twofactor:verify"), {"code": code_for(device, 1)})

    response = client.get(PATIENTS_URL)

    assert response.status_code == 200
    assert "MRN-1" in response.content.decode()


def test_no_token_before_enrolment_when_the_practice_requires_two_factor(anonymous, clinician):
    practice = clinician.membership.practice
    practice.require_2fa = True
    practice.save()

    response = ask_for_token(anonymous)

    assert "otp" in assert_field_errors(response, "otp")
    assert "requires two-factor" in response.json()["otp"][0]
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_resetting_two_factor_revokes_the_users_api_tokens(anonymous, clinician):
    from accounts.twofactor import devices as twofactor

    enrol(clinician)
    AuthToken.objects.create(user=clinician)

    twofactor.reset_two_factor(clinician)

    assert not AuthToken.objects.filter(user=clinician).exists()
