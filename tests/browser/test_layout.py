"""The patient list and page on a phone and on paper, with a record as long as it gets.

- At 390 px wide neither page scrolls sideways, and the list's TRD status column is on screen.
- Printed (A4 portrait, 794 px wide), every column of the trial table is on the page, and the
  navigation, buttons and forms are not.
- The options still open come first as compact cards; the ones already tried follow, one
  collapsed line each; trial notes and the reason stopped are in the trial table.

Set SCREENSHOTS=1 to also save the pages to test-artifacts/.
"""

import pytest
from playwright.sync_api import expect

from accounts.models import Practice
from demo.seed import DEMO_PRACTICE, seed_users

from ..factories import PASSWORD, PatientFactory
from .records import LONG_IDENTIFIER, LONG_NOTE, full_record

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
A4 = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 px per inch


@pytest.fixture
def long_patient():
    seed_users(PASSWORD)
    return full_record(Practice.objects.get(name=DEMO_PRACTICE), long=True)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_patient_list_does_not_scroll_sideways_on_a_phone(
    page, signed_in, live_server, long_patient, screenshot
):
    for number in range(3):
        PatientFactory(practice=long_patient.practice, identifier=f"MRN-{number}")
    signed_in(page, "demo-clinician", PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/patients/")
    expect(page.locator("#patient-table").get_by_role("link", name=LONG_IDENTIFIER)).to_be_visible()

    assert page_width(page) <= PHONE["width"]
    table_fits = page.evaluate(
        "() => { const t = document.querySelector('#patient-table');"
        " return t.scrollWidth <= t.parentElement.clientWidth; }"
    )
    assert table_fits, "the patient table scrolls inside its box"
    status = page.get_by_role("columnheader", name="TRD status").bounding_box()
    assert status["x"] + status["width"] <= PHONE["width"]
    screenshot(page, "layout-list-phone")


def test_the_patient_page_does_not_scroll_sideways_on_a_phone(
    page, signed_in, live_server, long_patient, screenshot
):
    signed_in(page, "demo-clinician", PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + long_patient.get_absolute_url())
    expect(page.locator("#trial-table")).to_be_visible()

    assert page_width(page) <= PHONE["width"]
    screenshot(page, "layout-patient-phone")


def test_printed_on_a4_every_trial_column_is_on_the_page(
    page, signed_in, live_server, long_patient, screenshot
):
    signed_in(page, "demo-clinician", PASSWORD)
    page.set_viewport_size(A4)
    page.emulate_media(media="print")
    page.goto(live_server.url + long_patient.get_absolute_url())
    table = page.locator("#trial-table")
    expect(table.locator("tbody tr")).to_have_count(3)  # the antidepressants
    expect(page.locator("#medicine-table tbody tr")).to_have_count(2)  # lithium, the pill

    headers = table.locator("thead th")
    assert headers.count() == 8
    for index in range(headers.count()):
        box = headers.nth(index).bounding_box()
        assert box is not None and box["width"] > 0, headers.nth(index).inner_text()
        assert box["x"] >= 0 and box["x"] + box["width"] <= A4["width"], (
            headers.nth(index).inner_text(),
            box,
        )
    fits = table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    assert fits, "the trial table is wider than its box"
    assert page_width(page) <= A4["width"]
    # Nothing to click on paper; the notes print in full.
    expect(page.get_by_role("navigation")).to_be_hidden()
    expect(page.get_by_role("button", name="Export discussion sheet (PDF)")).to_be_hidden()
    expect(page.get_by_role("link", name="Add trial")).to_be_hidden()
    expect(table.get_by_text("Pharmacy-reference-number").first).to_be_visible()
    screenshot(page, "layout-patient-print")


def test_untried_options_come_first_and_tried_ones_are_one_collapsed_line_each(
    page, signed_in, live_server, long_patient
):
    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + long_patient.get_absolute_url())

    # Lithium (augmentation), psychotherapy and ECT are in this record.
    tried = page.locator("#options-tried [data-option]")
    expect(tried).to_have_count(3)
    assert tried.evaluate_all("els => els.map(e => e.dataset.option)") == [
        "augmentation",
        "psychotherapy",
        "ect",
    ]
    expect(tried.first).to_contain_text("already tried")
    expect(tried.first).to_contain_text("Sources:")
    expect(tried.first.locator("details")).not_to_have_attribute("open", "")
    expect(tried.first.locator("details > p").first).to_be_hidden()

    open_cards = page.locator("#options-open [data-option]")
    expect(open_cards).to_have_count(14)
    expect(open_cards.first).to_have_attribute("data-option", "switch_antidepressant")
    expect(open_cards.get_by_text("already tried")).to_have_count(0)
    options_box = page.locator("#options").bounding_box()
    tried_box = page.locator("#options-tried").bounding_box()
    assert tried_box["y"] > page.locator("#options-open").bounding_box()["y"]
    assert options_box["height"] < 2 * 900, "the options take more than two screens"

    # Cautions and sources of a card open on demand.
    card = page.locator('[data-option="tms"]')
    expect(card.locator("ul")).to_be_hidden()
    card.locator("summary").click()
    expect(card.locator("ul")).to_be_visible()


def test_the_trial_table_shows_the_reason_stopped_and_the_notes(
    page, signed_in, live_server, long_patient
):
    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + long_patient.get_absolute_url())
    sertraline = page.locator("#trial-table tbody tr").filter(has_text="sertraline")

    expect(sertraline).to_contain_text("Reason stopped: No response after ten weeks")
    notes = sertraline.locator("details.trial-notes")
    expect(notes.get_by_text(LONG_NOTE[:40])).to_be_hidden()
    notes.get_by_text("Notes").click()
    expect(notes.get_by_text(LONG_NOTE[:40])).to_be_visible()
    therapy = page.locator("#therapy-table tbody tr").filter(has_text="Psychotherapy")
    expect(therapy).to_contain_text(LONG_NOTE[:40])
