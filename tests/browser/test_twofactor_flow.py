"""A clinician of a practice that requires two-factor authentication enrols in the browser.

Set SCREENSHOTS=1 to also save full-page PNGs of the setup, recovery-code and verify pages
to test-artifacts/.
"""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import Role

from ..factories import PASSWORD, PatientFactory, PracticeFactory, member

pytestmark = [
    pytest.mark.browser,
    # The live server needs transactions; serialized_rollback restores the migrated drug
    # catalog that the previous transactional test flushed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CODE_LABEL = "6-digit code from your authenticator app"


def code_from_secret(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app that was given `secret` shows (or will show next)."""
    key = b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key, drift=steps_ahead):06d}"


def sign_in(page, live_server, path: str, username: str):
    page.goto(live_server.url + path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_clinician_is_sent_to_setup_and_enrols_before_seeing_patients(
    page, live_server, screenshot
):
    practice = PracticeFactory(name="Secure Practice", require_2fa=True)
    user = member(practice, Role.CLINICIAN, username="secure-clinician")
    PatientFactory(practice=practice, identifier="2FA-001")

    sign_in(page, live_server, "/patients/", "secure-clinician")

    expect(page).to_have_url(re.compile(r"/accounts/2fa/setup/\?next=%2Fpatients%2F$"))
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.get_by_text("Secure Practice requires a code")).to_be_visible()
    expect(page.locator("svg.totp-qr")).to_be_visible()
    screenshot(page, "2fa-01-setup")

    # The app is set up by typing the key shown on the page, as a user who cannot scan would.
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label(CODE_LABEL).fill(code_from_secret(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    assert TOTPDevice.objects.get(user=user).confirmed
    screenshot(page, "2fa-02-recovery-codes")

    page.get_by_role("link", name=re.compile("continue")).click()
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    expect(page.get_by_role("link", name="2FA-001")).to_be_visible()

    # Next sign-in: the code is asked for after the password.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "/patients/", "secure-clinician")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/\?next=%2Fpatients%2F$"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    screenshot(page, "2fa-03-verify")

    # A mistyped recovery code is refused and leaves the authenticator usable.
    page.get_by_text("Lost your phone? Use a recovery code").click()
    page.get_by_label("Recovery code").fill("notacode")
    page.get_by_role("button", name="Sign in with a recovery code").click()
    expect(page.get_by_text("That recovery code is not valid")).to_be_visible()
    screenshot(page, "2fa-04-verify-wrong-recovery-code")

    # The code used to enrol was spent; the app's next code is still accepted.
    page.get_by_label(CODE_LABEL).fill(code_from_secret(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_role("link", name="2FA-001")).to_be_visible()
