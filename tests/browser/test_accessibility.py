"""axe-core finds no serious or critical accessibility violation on the app's main pages.

axe is vendored under tests/browser/vendor/axe-core/ (see its README). It is run with
`page.evaluate`, which the app's Content-Security-Policy does not apply to (a script tag that
inlines it would be blocked, as it should be). Each page is signed in as the role that uses it,
over a record made with the factories that has trials, scores, therapies, warnings and the
suicide-risk banner. Also: the skip link is the first thing Tab reaches, and a dose-change row
with an error is outlined and points at its message.
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Practice
from demo.seed import DEMO_PRACTICE, seed_users

from ..factories import PASSWORD
from .records import full_record

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    """The serious and critical axe violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


def report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(node["target"]) for node in violation["nodes"]][:5]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return "\n".join(lines)


def assert_accessible(page):
    violations = axe_violations(page)
    assert not violations, f"{page.url}\n{report(violations)}"


@pytest.fixture
def patient():
    seed_users(PASSWORD)
    return full_record(Practice.objects.get(name=DEMO_PRACTICE))


def test_the_sign_in_page_has_no_serious_violations(page, live_server):
    page.goto(live_server.url + reverse("login"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "patient list",
        "patient page",
        "add-trial form",
        "add-score form",
        "dashboard",
        "other-medicine form",
        "score correction",
        "removal confirmation",
        "password",
    ],
)
def test_a_clinicians_page_has_no_serious_violations(page, signed_in, live_server, patient, name):
    url = {
        "home": reverse("home"),
        "patient list": reverse("patients:patient-list"),
        "patient page": patient.get_absolute_url(),
        "add-trial form": reverse("treatments:trial-add", args=[patient.pk]),
        "add-score form": reverse("treatments:score-add", args=[patient.pk]),
        "dashboard": reverse("dashboard:dashboard"),
        "other-medicine form": reverse("treatments:medicine-add", args=[patient.pk]),
        "score correction": reverse(
            "treatments:score-edit", args=[patient.pk, patient.scores.first().pk]
        ),
        "removal confirmation": reverse(
            "treatments:score-delete", args=[patient.pk, patient.scores.first().pk]
        ),
        "password": reverse("accounts:password-change"),
    }[name]
    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + url)
    expect(page.locator("main h1").first).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("name", ["exports", "audit trail"])
def test_an_auditors_page_has_no_serious_violations(page, signed_in, live_server, patient, name):
    url = {"exports": reverse("reports:export-list"), "audit trail": reverse("audit:event-list")}
    signed_in(page, "demo-auditor", PASSWORD)
    page.goto(live_server.url + url[name])
    expect(page.locator("main h1").first).to_be_visible()
    assert_accessible(page)


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_main_content(
    page, signed_in, live_server, patient
):
    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + patient.get_absolute_url())

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_a_dose_change_row_with_errors_is_outlined_and_points_at_its_messages(
    page, signed_in, live_server, patient
):
    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + reverse("treatments:trial-add", args=[patient.pk]))
    page.locator("tr.dose-row").first.get_by_label("New dose (mg/day)").fill("0")
    page.get_by_role("button", name="Save trial").click()

    row = page.locator("tr.dose-row").first
    for label in ("From date", "New dose (mg/day)"):
        field = row.get_by_label(label)
        expect(field).to_have_class(re.compile(r"\bis-invalid\b"))
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_css("border-top-color", "rgb(220, 53, 69)")
        message = page.locator("#" + field.get_attribute("aria-describedby"))
        expect(message).to_be_visible()
        expect(message).not_to_be_empty()
    expect(row.locator(".invalid-feedback").first).to_contain_text("required")
    # The rows without errors stay plain.
    expect(page.locator("tr.dose-row").nth(1).locator(".is-invalid")).to_have_count(0)
    assert_accessible(page)
