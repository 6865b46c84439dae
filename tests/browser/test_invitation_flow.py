"""A practice admin invites a colleague by email, who sets a password through the link and
signs in; the admin changes a user's roles, deactivates them and sets the practice's rules.

Set SCREENSHOTS=1 to also save full-page PNGs of the account screens to test-artifacts/.
"""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import Invitation, Practice, Role

from ..factories import PASSWORD, PracticeFactory, member

pytestmark = [
    pytest.mark.browser,
    # The live server needs transactions; serialized_rollback restores the migrated drug
    # catalog that the previous transactional test flushed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NEW_PASSWORD = "harbour-violet-compass-61"


def the_practice():
    """A practice with an admin, a clinician, and an auditor who has two-factor on."""
    practice = PracticeFactory(name="Browser Practice")
    member(practice, Role.PRACTICE_ADMIN, username="browser-admin")
    member(practice, Role.CLINICIAN, username="browser-clinician")
    auditor = member(practice, Role.AUDITOR, username="browser-auditor")
    TOTPDevice.objects.create(user=auditor, name="authenticator", confirmed=True)
    return practice


def test_an_invited_colleague_accepts_by_the_emailed_link_and_signs_in(
    page, signed_in, live_server, screenshot, mailoutbox
):
    practice = the_practice()
    signed_in(page, "browser-admin", PASSWORD)

    page.locator("#mainnav").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Accounts of Browser Practice")).to_be_visible()
    auditor_row = page.locator("#member-table tbody tr", has_text="browser-auditor")
    expect(auditor_row).to_contain_text("Auditor")
    expect(auditor_row.locator("td").nth(4)).to_have_text("on")
    screenshot(page, "accounts-01-member-list")

    page.get_by_role("link", name="Invite a user").first.click()
    page.get_by_label("Email address").fill("new.colleague@example.org")
    page.get_by_label("Clinician").check()
    screenshot(page, "accounts-03-invite-form")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Invitation sent to new.colleague@example.org"
    )
    row = page.locator("#invitation-table tbody tr", has_text="new.colleague@example.org")
    expect(row).to_contain_text("open")
    expect(row.get_by_role("button", name=re.compile("Re-send"))).to_be_visible()
    screenshot(page, "accounts-04-invitation-list")

    [mail] = mailoutbox
    assert mail.to == ["new.colleague@example.org"]
    link = re.search(r"https?://\S+/accounts/invite/[\w-]+/", mail.body).group(0)
    assert link.startswith(live_server.url)
    page.get_by_role("button", name="Sign out").click()

    page.goto(link)
    expect(page.get_by_role("heading", name="Join Browser Practice")).to_be_visible()
    expect(page.locator("main")).to_contain_text("new.colleague@example.org")
    page.get_by_label("Username").fill("new-colleague")
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD + "-typo")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("The two passwords differ.")).to_be_visible()
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    screenshot(page, "accounts-05-accept-page")
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Your account new-colleague is ready")
    signed_in(page, "new-colleague", NEW_PASSWORD)
    expect(page.locator(".navbar")).to_contain_text("new-colleague · Browser Practice · Clinician")
    invitation = Invitation.objects.get(email="new.colleague@example.org")
    assert invitation.accepted_user.membership.practice == practice

    # The link was single-use.
    page.goto(link)
    expect(page.get_by_role("heading", name="This invitation cannot be used")).to_be_visible()


def test_an_admin_changes_roles_deactivates_a_signed_in_user_and_sets_the_practice_rules(
    page, browser, signed_in, live_server, screenshot
):
    practice = the_practice()
    their_context = browser.new_context(base_url=live_server.url)
    their_page = their_context.new_page()
    signed_in(their_page, "browser-clinician", PASSWORD)
    signed_in(page, "browser-admin", PASSWORD)

    page.goto(live_server.url + "/accounts/users/")
    page.get_by_role("link", name="browser-clinician").click()
    expect(page.get_by_role("heading", name="browser-clinician")).to_be_visible()
    page.get_by_label("Auditor").check()
    page.get_by_role("button", name="Save roles").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Roles of browser-clinician: Clinician, Auditor"
    )
    expect(page.locator("#account-events")).to_contain_text("roles: clinician → clinician, auditor")
    screenshot(page, "accounts-02-member-detail")

    page.get_by_role("link", name="Deactivate…").click()
    expect(page.get_by_role("heading", name="Deactivate browser-clinician?")).to_be_visible()
    screenshot(page, "accounts-07-confirm-deactivate")
    page.get_by_role("button", name="Deactivate browser-clinician").click()
    expect(page.get_by_role("alert")).to_contain_text("browser-clinician is deactivated")
    expect(page.get_by_role("button", name="Reactivate browser-clinician")).to_be_visible()

    their_page.goto(live_server.url + "/patients/")
    expect(their_page).to_have_url(re.compile(r"/accounts/login/"))
    their_context.close()

    page.locator("#mainnav").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="Practice settings").click()
    page.get_by_label("Session idle timeout (minutes)").fill("4")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#id_session_idle_minutes")).to_have_class(re.compile(r"\bis-invalid\b"))
    screenshot(page, "accounts-06-settings")
    page.get_by_label("Session idle timeout (minutes)").fill("45")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Practice settings saved.")
    assert Practice.objects.get(pk=practice.pk).session_idle_minutes == 45
