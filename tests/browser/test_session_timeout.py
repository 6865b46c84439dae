"""The idle timeout in the browser: a warning with "Stay signed in" two minutes before it, and a
trial form saved after it comes back filled in once the clinician has signed in again.

The page's clock is Playwright's (fast-forwarded); the server's idle clock is moved by editing
the stored session. Set SCREENSHOTS=1 to also save PNGs to test-artifacts/.
"""

import re
import time
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from accounts.middleware import IdleTimeoutMiddleware
from accounts.models import Role
from core.dates import today
from treatments.models import Trial

from ..factories import PASSWORD, PatientFactory, PracticeFactory, drug, member
from .test_accessibility import assert_accessible

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def clinic():
    """A practice with the shortest idle timeout (5 minutes), a clinician and a patient."""
    practice = PracticeFactory(name="Quick Practice", session_idle_minutes=5)
    member(practice, Role.CLINICIAN, username="quick-clinician")
    return PatientFactory(practice=practice, identifier="IDLE-001")


def stored_session(page):
    key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)


def move_server_clock(page, seconds: int) -> None:
    """The server last saw this browser `seconds` earlier than it did."""
    session = stored_session(page)
    session[IdleTimeoutMiddleware.SESSION_KEY] -= seconds
    session.save()


def test_the_warning_comes_two_minutes_early_and_stay_signed_in_keeps_the_session(
    page, signed_in, live_server, clinic, screenshot
):
    page.clock.install()
    signed_in(page, "quick-clinician", PASSWORD)
    page.goto(live_server.url + reverse("treatments:trial-add", args=[clinic.pk]))
    dialog = page.get_by_role("alertdialog")
    stay = dialog.get_by_role("button", name="Stay signed in")

    # Typing in the form is not activity: the warning still comes 3 minutes after the load.
    page.get_by_label("Notes").fill("Typing does not keep the session.")
    page.clock.fast_forward("02:50")
    expect(dialog).to_be_hidden()
    page.clock.fast_forward("00:15")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("You will be signed out in 2 minutes for inactivity.")
    expect(dialog.get_by_role("timer")).to_have_text(re.compile(r"^1:5\d$"))
    expect(stay).to_be_focused()
    assert_accessible(page)
    screenshot(page, "session-timeout-warning")

    # "Stay signed in" restarts the server's idle clock, and the page's.
    move_server_clock(page, 4 * 60)
    stay.click()
    expect(dialog).to_be_hidden()
    assert stored_session(page)[IdleTimeoutMiddleware.SESSION_KEY] >= int(time.time()) - 10
    expect(page.get_by_label("Notes")).to_be_focused()
    page.clock.fast_forward("02:50")
    expect(dialog).to_be_hidden()
    page.clock.fast_forward("00:15")
    expect(dialog).to_be_visible()

    # Past the timeout the dialog says so, and the page stays for its Save.
    page.clock.fast_forward("02:00")
    expect(dialog).to_contain_text("You have been signed out for inactivity.")
    expect(stay).to_be_hidden()
    expect(page.get_by_label("Notes")).to_have_value("Typing does not keep the session.")


def test_a_trial_saved_after_the_timeout_comes_back_filled_in_after_signing_in(
    page, signed_in, live_server, clinic, screenshot
):
    start = today() - timedelta(days=120)
    url = reverse("treatments:trial-add", args=[clinic.pk])
    venlafaxine = str(drug("venlafaxine").pk)
    signed_in(page, "quick-clinician", PASSWORD)
    page.goto(live_server.url + url)
    page.get_by_label("Drug").select_option(value=venlafaxine)
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("End date").fill((start + timedelta(days=84)).isoformat())
    page.get_by_label("Starting dose").fill("75")
    page.get_by_label("Adherence").select_option(label="Good")
    page.get_by_label("Outcome").select_option(label="No response")
    page.locator("#id_doses-0-date").fill((start + timedelta(days=14)).isoformat())
    page.locator("#id_doses-0-dose_mg").fill("150")

    move_server_clock(page, 10 * 60)
    page.get_by_role("button", name="Save trial").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "Your session ended; sign in again and your form will be shown filled in."
    )
    assert not Trial.objects.filter(patient=clinic).exists()

    page.get_by_label("Username").fill("quick-clinician")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(live_server.url + url)
    expect(page.get_by_role("alert")).to_contain_text(
        "Restored your unsaved input: check it and save."
    )
    expect(page.get_by_label("Drug")).to_have_value(venlafaxine)
    expect(page.get_by_label("Start date")).to_have_value(start.isoformat())
    expect(page.get_by_label("End date")).to_have_value((start + timedelta(days=84)).isoformat())
    expect(page.get_by_label("Starting dose")).to_have_value("75")
    expect(page.locator("#id_doses-0-date")).to_have_value((start + timedelta(days=14)).isoformat())
    expect(page.locator("#id_doses-0-dose_mg")).to_have_value("150")
    screenshot(page, "session-timeout-restored")
    assert not Trial.objects.filter(patient=clinic).exists()

    page.get_by_role("button", name="Save trial").click()
    expect(page.get_by_role("alert")).to_contain_text("Trial of venlafaxine added.")
    trial = Trial.objects.get(patient=clinic)
    assert [(c.date, c.dose_mg) for c in trial.dose_changes.all()] == [
        (start + timedelta(days=14), 150)
    ]
