"""A clinician makes a PHQ-9 link; the patient, in a browser with no session, answers it with
item 9 = 1; the patient page shows the self-reported score and the banner; the link is spent.

Set SCREENSHOTS=1 to also save full-page PNGs of the pages on the way.
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Practice
from demo.seed import DEMO_PRACTICE, seed_users
from treatments.models import ScaleScore

from ..factories import PASSWORD, PatientFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ITEMS = [1, 2, 1, 1, 0, 1, 1, 0, 1]  # total 8, item 9 = 1


def test_a_patient_answers_a_link_once_and_the_banner_rises(
    page, browser, signed_in, live_server, screenshot
):
    seed_users(PASSWORD)
    patient = PatientFactory(
        practice=Practice.objects.get(name=DEMO_PRACTICE), identifier="BROWSER-SELF"
    )
    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + patient.get_absolute_url())
    expect(page.locator("#suicide-risk")).to_have_count(0)
    page.locator("#self-report").get_by_role("button", name="Create PHQ-9 link").click()
    url = page.locator("#self-report-url").inner_text().strip()
    assert re.fullmatch(re.escape(live_server.url) + r"/r/[A-Za-z0-9_-]{43,}/", url)
    expect(page.locator("#self-report-qr svg")).to_be_visible()
    screenshot(page, "self-report-01-link")

    # The patient: a new context, no cookies, a phone-sized screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    try:
        patient_page = phone.new_page()
        patient_page.goto(url)
        expect(
            patient_page.get_by_role("heading", name="How have you been feeling?")
        ).to_be_visible()
        expect(patient_page.locator("body")).not_to_contain_text("BROWSER-SELF")
        for number, value in enumerate(ITEMS, start=1):
            patient_page.locator(f"label[for=id_item_{number}_{value}]").click()
        patient_page.locator("label[for=id_difficulty_1]").click()
        screenshot(patient_page, "self-report-02-form")
        patient_page.get_by_role("button", name="Send my answers").click()
        expect(patient_page.get_by_role("heading", name="Thank you")).to_be_visible()
        expect(patient_page.locator("#crisis-text")).to_contain_text("emergency")
        screenshot(patient_page, "self-report-03-thanks")

        # The clinician sees it at once: self-reported, and the banner.
        page.goto(live_server.url + patient.get_absolute_url())
        row = page.locator("#score-table tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("self-reported")
        expect(row).to_contain_text("8")
        expect(page.locator("#suicide-risk")).to_be_visible()
        expect(page.locator("#suicide-risk")).to_contain_text("scored 1")
        screenshot(page, "self-report-04-patient")
        score = ScaleScore.objects.get(patient=patient)
        assert (score.items, score.source) == (ITEMS, "self_report")

        # The link is spent.
        answer = patient_page.goto(url)
        assert answer.status == 410
        expect(
            patient_page.get_by_role("heading", name="This link no longer works")
        ).to_be_visible()
    finally:
        phone.close()
