"""A clinician enters a PHQ-9 with item 9 above 0 through the form and sees the banner.

Set SCREENSHOTS=1 to also save full-page PNGs of the score form and the patient page.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.models import Practice
from core.dates import today
from demo.seed import DEMO_PRACTICE, seed_users
from treatments.models import ScaleScore

from ..factories import PASSWORD, PatientFactory, ScaleScoreFactory, TrialFactory

pytestmark = [
    pytest.mark.browser,
    # The live server needs transactions; serialized_rollback restores the migrated drug
    # catalog that the previous transactional test flushed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ITEMS = [2, 2, 1, 2, 1, 1, 1, 1, 1]  # total 12, item 9 = 1


def test_a_phq9_with_item_9_above_0_raises_the_banner(page, signed_in, live_server, screenshot):
    seed_users(PASSWORD)
    patient = PatientFactory(
        practice=Practice.objects.get(name=DEMO_PRACTICE), identifier="BROWSER-RISK"
    )
    start = today() - timedelta(days=120)
    TrialFactory(patient=patient, start_date=start, end_date=start + timedelta(days=60))
    ScaleScoreFactory(patient=patient, scale="hamd17", total=24, date=start)
    ScaleScoreFactory(patient=patient, scale="hamd17", total=11, date=start + timedelta(days=56))
    ScaleScoreFactory(patient=patient, scale="hamd17", total=14, date=today() - timedelta(days=20))

    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + patient.get_absolute_url())
    expect(page.locator("#suicide-risk")).to_have_count(0)

    # The form: PHQ-9 shows the nine items; another scale hides them.
    page.get_by_role("link", name="Add score").click()
    expect(
        page.get_by_role("heading", name=re.compile("Record a rating-scale score"))
    ).to_be_visible()
    page.get_by_label("Scale").select_option(value="madrs")
    expect(page.locator("#phq9-items")).to_be_hidden()
    page.get_by_label("Scale").select_option(value="phq9")
    expect(page.locator("#phq9-items")).to_be_visible()
    page.get_by_label("Date").fill(today().isoformat())
    expect(page.locator("#score-total")).to_be_hidden()  # PHQ-9: the total is the items' sum
    # By keyboard: focus the first row and type the nine answers; each moves to the next row.
    page.locator("#id_item_1_0").focus()
    page.keyboard.type("".join(str(value) for value in ITEMS))
    for number, value in enumerate(ITEMS, start=1):
        expect(page.locator(f"#id_item_{number}_{value}")).to_be_checked()
    expect(page.locator("#phq9-total")).to_have_text("12")
    screenshot(page, "06-score-form")

    page.get_by_role("button", name="Save score").click()
    expect(page.get_by_role("alert")).to_contain_text("PHQ-9 score 12 recorded.")
    score = ScaleScore.objects.get(scale="phq9")
    assert (score.total, score.items) == (12, ITEMS)

    banner = page.locator("#suicide-risk")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Suicide risk: discuss urgently")
    expect(banner).to_contain_text("suicidal ideation, sudden neurological symptoms")
    expect(banner).to_contain_text("Understanding and Managing TRD in the U.S.")
    expect(banner.locator("button")).to_have_count(0)  # nothing to dismiss it
    expect(page.locator('[data-option="ketamine_esketamine"]')).to_have_class(
        re.compile(r"\boption-risk\b")
    )
    expect(page.locator("#score-table tbody tr")).to_have_count(4)
    lanes = page.locator(".timeline svg g.tl-lane")
    expect(lanes).to_have_count(2)
    expect(lanes.locator("text.label")).to_have_text(["PHQ-9", "HAM-D-17"])
    expect(page.locator(".timeline svg polyline.score-line")).to_have_count(1)
    cell = page.locator("#trial-table td.measured-outcome")
    expect(cell).to_contain_text("Response")
    expect(cell).to_contain_text("disagrees")
    screenshot(page, "07-patient-suicide-risk")

    # The banner stays after a reload: it cannot be dismissed for the visit.
    page.reload()
    expect(page.locator("#suicide-risk")).to_be_visible()

    # The clinician uses the measured outcome, after seeing recorded → measured.
    cell.get_by_role("link", name="Use measured outcome").click()
    expect(page.get_by_text("Recorded outcome", exact=True)).to_be_visible()
    page.get_by_role("button", name=re.compile("Set the outcome to")).click()
    expect(page.get_by_role("alert")).to_contain_text("set to response")
    expect(page.locator("#trial-table td.measured-outcome")).not_to_contain_text("disagrees")

    # The list flags the patient too.
    page.get_by_role("navigation").get_by_role("link", name="Patients").click()
    row = page.locator("tbody tr", has=page.get_by_role("link", name="BROWSER-RISK"))
    expect(row).to_contain_text("Suicide risk: discuss urgently")
    expect(page.locator("#suicide-risk")).to_contain_text("1 patient on this page")
    screenshot(page, "08-patient-list-suicide-risk")


def test_a_mistyped_item_9_is_corrected_and_the_banner_goes(page, signed_in, live_server):
    seed_users(PASSWORD)
    patient = PatientFactory(
        practice=Practice.objects.get(name=DEMO_PRACTICE), identifier="BROWSER-FIX"
    )
    ScaleScoreFactory(
        patient=patient, scale="phq9", items=[1, 1, 1, 1, 1, 1, 1, 1, 2], total=10, date=today()
    )
    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + patient.get_absolute_url())
    expect(page.locator("#suicide-risk")).to_be_visible()

    page.locator("#score-table").get_by_role("link", name="Correct").click()
    expect(page.locator("#id_item_9_2")).to_be_checked()
    page.locator("#id_item_9_2").focus()
    page.keyboard.type("0")
    expect(page.locator("#phq9-total")).to_have_text("8")
    page.get_by_role("button", name="Save the correction").click()

    expect(page.get_by_role("alert")).to_contain_text("PHQ-9 score corrected.")
    expect(page.locator("#suicide-risk")).to_have_count(0)
    score = ScaleScore.objects.get(patient=patient)
    assert (score.items[8], score.total, score.version) == (0, 8, 2)
