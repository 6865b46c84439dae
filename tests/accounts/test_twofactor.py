"""Two-factor authentication on the web: enrolment, verification, enforcement, reset, audit."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.twofactor import devices as twofactor
from audit.models import Action, AuditEvent
from tests.factories import PASSWORD

SETUP = reverse("twofactor:setup")
VERIFY = reverse("twofactor:verify")
RECOVERY_CODES = reverse("twofactor:recovery-codes")
PATIENTS = reverse("patients:patient-list")
LOGIN = reverse("login")


def code_for(device, steps_ahead: int = 0) -> str:
    """The device's live TOTP code, or the one `steps_ahead` time steps later.

    A code is accepted once: after a device has accepted this step's code (enrolment
    does), the next sign-in needs the next step's code, which the tolerance allows.
    """
    code = totp(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead
    )
    return f"{code:0{device.digits}d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed authenticator for `user`, through the service; returns it and the codes."""
    device = twofactor.start_enrolment(user)
    codes = twofactor.confirm_enrolment(user, device, code_for(device))
    assert codes is not None
    device.refresh_from_db()
    return device, codes


def enrol_on_the_web(client, user) -> tuple[TOTPDevice, list[str]]:
    """Enrol through the setup page, which also verifies the client's session."""
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    codes = shown_recovery_codes(client.post(SETUP, {"code": code_for(device)}))
    device.refresh_from_db()
    assert device.confirmed and len(codes) == 10
    return device, codes


def shown_recovery_codes(response) -> list[str]:
    return re.findall(r'<code class="recovery-code[^"]*">(\w+)</code>', response.content.decode())


def session_device_id(client):
    return client.session.get("otp_device_id")


@pytest.fixture
def requiring_practice(practice):
    practice.require_2fa = True
    practice.save()
    return practice


# --------------------------------------------------------------------------------------
# Enrolment
# --------------------------------------------------------------------------------------


def test_setup_shows_a_qr_code_and_the_secret_for_typing_in(login, clinician):
    response = login(clinician).get(SETUP)

    device = TOTPDevice.objects.get(user=clinician)
    assert not device.confirmed
    assert device.name == "authenticator"
    html = response.content.decode()
    assert '<svg width="' in html and 'class="totp-qr"' in html
    shown = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', html).group(1)
    secret = twofactor.secret_base32(device)
    assert shown == secret and secret.replace(" ", "") in device.config_url
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert response["Cache-Control"] == "no-store"


def test_reloading_setup_keeps_the_secret_already_shown(login, clinician):
    client = login(clinician)
    client.get(SETUP)
    first = TOTPDevice.objects.get(user=clinician)

    client.get(SETUP)

    assert list(TOTPDevice.objects.filter(user=clinician)) == [first]


def test_start_enrolment_replaces_an_earlier_unconfirmed_device(clinician):
    earlier = twofactor.start_enrolment(clinician)

    later = twofactor.start_enrolment(clinician)

    assert list(TOTPDevice.objects.filter(user=clinician)) == [later]
    assert later.key != earlier.key and not later.confirmed


def test_setup_refuses_a_wrong_code_and_leaves_the_device_unconfirmed(login, clinician):
    client = login(clinician)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=clinician)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = client.post(SETUP, {"code": wrong})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=clinician).exists()
    assert not twofactor.has_two_factor(clinician)


def test_setup_confirms_with_the_right_code_and_shows_ten_recovery_codes_once(login, clinician):
    client = login(clinician)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=clinician)

    response = client.post(SETUP, {"code": code_for(device), "next": PATIENTS})

    device.refresh_from_db()
    assert device.confirmed
    shown = shown_recovery_codes(response)
    stored = StaticToken.objects.filter(device__user=clinician, device__name="recovery")
    assert len(shown) == 10 and sorted(shown) == sorted(t.token for t in stored)
    assert response["Cache-Control"] == "no-store"
    assert f'href="{PATIENTS}"' in response.content.decode()  # the "continue" link
    # The session passed the second factor while enrolling, and the codes never show again.
    assert session_device_id(client) == device.persistent_id
    assert client.get(PATIENTS).status_code == 200
    again = client.get(SETUP)
    assert shown_recovery_codes(again) == []
    assert "Two-factor authentication" in again.content.decode()


def test_a_code_sent_after_the_setup_expired_asks_to_scan_again(login, clinician):
    client = login(clinician)

    response = client.post(SETUP, {"code": "123456"})

    assert "This setup had expired" in response.content.decode()
    device = TOTPDevice.objects.get(user=clinician)  # a fresh one, shown with the message
    assert not device.confirmed
    assert client.session["twofactor_pending_device"] == device.pk


def test_a_user_with_two_factor_cannot_enrol_a_new_device_before_verifying(login, clinician):
    device, _ = enrol(clinician)

    response = login(clinician).get(SETUP + "?new=1")

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert list(TOTPDevice.objects.filter(user=clinician)) == [device]


def test_a_verified_user_can_move_to_a_new_authenticator(login, clinician):
    old, _ = enrol(clinician)
    client = login(clinician)
    client.post(VERIFY, {"code": code_for(old, 1)})

    client.get(SETUP + "?new=1")
    new = TOTPDevice.objects.get(user=clinician, confirmed=False)
    response = client.post(SETUP + "?new=1", {"code": code_for(new)})

    assert len(shown_recovery_codes(response)) == 10
    assert list(TOTPDevice.objects.filter(user=clinician)) == [new]
    assert session_device_id(client) == new.persistent_id


def test_a_device_of_another_user_cannot_be_confirmed(clinician, outsider):
    outsiders_device = twofactor.start_enrolment(outsider)

    assert (
        twofactor.confirm_enrolment(clinician, outsiders_device, code_for(outsiders_device)) is None
    )

    outsiders_device.refresh_from_db()
    assert not outsiders_device.confirmed
    assert not twofactor.has_two_factor(clinician)


# --------------------------------------------------------------------------------------
# Verification after password login
# --------------------------------------------------------------------------------------


def test_a_password_login_sends_a_user_with_two_factor_to_verify(client, clinician):
    enrol(clinician)

    response = client.post(
        LOGIN + f"?next={PATIENTS}",
        {"username": "clinician", "password": PASSWORD, "next": PATIENTS},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"{VERIFY}?next=%2Fpatients%2F"
    assert "Enter your code" in response.content.decode()


def test_an_unverified_user_is_sent_from_the_patient_list_to_verify(login, clinician):
    enrol(clinician)

    response = login(clinician).get(PATIENTS)

    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fpatients%2F"


def test_the_right_code_lets_the_user_through_to_where_they_were_going(login, clinician):
    device, _ = enrol(clinician)
    client = login(clinician)
    key_before = client.session.session_key

    response = client.post(VERIFY, {"code": code_for(device, 1), "next": PATIENTS})

    assert response.status_code == 302 and response["Location"] == PATIENTS
    assert client.get(PATIENTS).status_code == 200
    assert session_device_id(client) == device.persistent_id
    assert client.session.session_key != key_before  # a new session key once verified


def test_a_wrong_code_is_refused_with_an_error(login, clinician):
    device, _ = enrol(clinician)
    client = login(clinician)
    wrong = f"{(int(code_for(device, 1)) + 1) % 1_000_000:06d}"

    response = client.post(VERIFY, {"code": wrong, "next": PATIENTS})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert session_device_id(client) is None
    assert client.get(PATIENTS).status_code == 302


def test_a_code_is_accepted_only_once(clinician):
    device, _ = enrol(clinician)
    code = code_for(device, 1)

    assert twofactor.verify_second_factor(clinician, code) is True
    assert twofactor.verify_second_factor(clinician, code) is False


def test_a_code_typed_with_spaces_is_accepted(clinician):
    device, _ = enrol(clinician)
    code = code_for(device, 1)

    assert twofactor.verify_second_factor(clinician, f" {code[:3]} {code[3:]} ")


def test_a_recovery_code_works_once_only(client, login, clinician):
    _, codes = enrol(clinician)

    first = login(clinician).post(VERIFY, {"recovery-code": codes[0], "next": PATIENTS})
    assert first.status_code == 302 and first["Location"] == PATIENTS
    assert client.get(PATIENTS).status_code == 200
    assert StaticToken.objects.filter(device__user=clinician).count() == 9

    client.post(reverse("logout"))
    second = login(clinician).post(VERIFY, {"recovery-code": codes[0], "next": PATIENTS})
    assert second.status_code == 200
    assert "not valid or has already been used" in second.content.decode()
    assert client.get(PATIENTS).status_code == 302


def test_a_recovery_code_typed_in_capitals_or_with_one_for_l_is_accepted(clinician):
    _, codes = enrol(clinician)
    StaticToken.objects.filter(token=codes[3]).update(token="abcdlo23")

    assert twofactor.verify_second_factor(clinician, " ABCD 1023 ")


def test_verify_ignores_a_next_address_on_another_site(login, clinician):
    device, _ = enrol(clinician)

    response = login(clinician).post(
        VERIFY, {"code": code_for(device, 1), "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("home")


def test_a_user_without_two_factor_is_not_asked_for_a_code(login, clinician):
    client = login(clinician)

    assert client.get(PATIENTS).status_code == 200
    assert client.get(VERIFY)["Location"] == reverse("home")


# --------------------------------------------------------------------------------------
# Enforcement by the practice
# --------------------------------------------------------------------------------------


def test_a_user_of_a_practice_requiring_two_factor_is_sent_to_setup_after_login(
    client, requiring_practice, clinician
):
    response = client.post(LOGIN, {"username": "clinician", "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == f"{SETUP}?next=%2F"
    assert "requires a code from an authenticator app" in response.content.decode()


def test_a_user_without_a_device_cannot_reach_patients_until_enrolled(
    login, requiring_practice, clinician
):
    client = login(clinician)
    assert twofactor.needs_enrolment(clinician)
    assert client.get(PATIENTS)["Location"] == f"{SETUP}?next=%2Fpatients%2F"
    assert client.get(reverse("home"))["Location"] == f"{SETUP}?next=%2F"

    client.get(SETUP)
    device = TOTPDevice.objects.get(user=clinician)
    client.post(SETUP, {"code": code_for(device), "next": PATIENTS})

    assert not twofactor.needs_enrolment(clinician)
    assert client.get(PATIENTS).status_code == 200


def test_signing_out_stays_possible_before_enrolling(login, requiring_practice, clinician):
    client = login(clinician)

    response = client.post(reverse("logout"))

    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_the_requirement_of_another_practice_does_not_apply(
    login, other_practice, clinician, outsider
):
    other_practice.require_2fa = True
    other_practice.save()

    assert login(clinician).get(PATIENTS).status_code == 200
    assert not twofactor.needs_enrolment(clinician)
    assert twofactor.needs_enrolment(outsider)


# --------------------------------------------------------------------------------------
# Recovery codes, reset and audit
# --------------------------------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones_given_a_current_code(login, clinician):
    client = login(clinician)
    device, old_codes = enrol_on_the_web(client, clinician)

    response = client.post(RECOVERY_CODES, {"code": code_for(device, 1)})

    new_codes = shown_recovery_codes(response)
    stored = StaticToken.objects.filter(device__user=clinician).values_list("token", flat=True)
    assert len(new_codes) == 10 and sorted(new_codes) == sorted(stored)
    assert not set(new_codes) & set(old_codes)
    assert not twofactor.verify_second_factor(clinician, old_codes[0])
    assert client.get(PATIENTS).status_code == 200  # still verified


def test_new_recovery_codes_are_refused_without_the_current_code(login, clinician):
    client = login(clinician)
    device, old_codes = enrol_on_the_web(client, clinician)
    wrong = f"{(int(code_for(device, 1)) + 1) % 1_000_000:06d}"

    response = client.post(RECOVERY_CODES, {"code": wrong})

    assert shown_recovery_codes(response) == []
    assert "That code is not right" in response.content.decode()
    assert twofactor.verify_second_factor(clinician, old_codes[0])


def test_the_recovery_codes_page_sends_an_unverified_user_to_verify(login, clinician):
    enrol(clinician)

    response = login(clinician).get(RECOVERY_CODES)

    assert response["Location"] == f"{VERIFY}?next=%2Faccounts%2F2fa%2Frecovery-codes%2F"


def test_reset_two_factor_removes_all_the_users_devices(clinician, colleague):
    enrol(clinician)
    enrol(colleague)

    twofactor.reset_two_factor(clinician)

    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert not StaticDevice.objects.filter(user=clinician).exists()
    assert not twofactor.has_two_factor(clinician)
    assert twofactor.has_two_factor(colleague)


def test_after_a_reset_a_verified_session_must_enrol_again_when_required(
    login, requiring_practice, clinician
):
    client = login(clinician)
    enrol_on_the_web(client, clinician)
    assert client.get(PATIENTS).status_code == 200

    twofactor.reset_two_factor(clinician)

    assert client.get(PATIENTS)["Location"] == f"{SETUP}?next=%2Fpatients%2F"


def test_enrolment_confirmation_and_reset_are_audited(practice, clinician, practice_admin):
    device = twofactor.start_enrolment(clinician, ip="10.0.0.1")
    twofactor.confirm_enrolment(clinician, device, code_for(device))
    twofactor.reset_two_factor(clinician, actor=practice_admin)

    events = AuditEvent.objects.filter(action=Action.ACCOUNT_CHANGE).order_by("id")
    assert [(e.actor, e.details["event"]) for e in events] == [
        ("clinician", "2fa_enrolment_started"),
        ("clinician", "2fa_enrolled"),
        ("admin", "2fa_reset"),
    ]
    assert {(e.practice_id, e.object_type, e.object_id) for e in events} == {
        (practice.pk, "user", str(clinician.pk))
    }
    assert events[0].ip == "10.0.0.1"


def test_regenerating_and_using_recovery_codes_are_audited(clinician):
    device, codes = enrol(clinician)

    twofactor.verify_second_factor(clinician, codes[0])
    twofactor.regenerate_recovery_codes(clinician, code_for(device, 1))

    details = [e.details for e in AuditEvent.objects.order_by("id")][-2:]
    assert details == [
        {"event": "2fa_recovery_code_used", "remaining": 9},
        {"event": "2fa_recovery_codes_regenerated"},
    ]


def test_a_failed_confirmation_writes_no_enrolment_event(clinician):
    device = twofactor.start_enrolment(clinician)

    assert twofactor.confirm_enrolment(clinician, device, "not-a-code") is None

    assert not AuditEvent.objects.filter(details__event="2fa_enrolled").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/password-reset/"])
def test_public_pages_stay_reachable_before_the_second_factor(client, clinician, url):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=clinician, name="authenticator", confirmed=True)
    client.force_login(clinician)
    assert client.get("/patients/").status_code == 302
    assert client.get(url).status_code == 200
