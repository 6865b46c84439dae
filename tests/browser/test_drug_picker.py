"""The trial form's drug picker: typing a generic or brand name picks that drug and no other.

Set SCREENSHOTS=1 to also save the open list after typing "Lex" to test-artifacts/.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.models import Practice
from core.dates import today
from demo.seed import DEMO_PRACTICE, seed_users
from treatments.models import Trial

from ..factories import PASSWORD, PatientFactory, drug

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def trial_page(page, signed_in, live_server):
    """The add-trial page of a new patient, signed in as the demo clinician."""
    seed_users(PASSWORD)
    patient = PatientFactory(
        practice=Practice.objects.get(name=DEMO_PRACTICE), identifier="PICKER-001"
    )
    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + f"/patients/{patient.pk}/trials/new/")
    page.patient = patient
    return page


def search_box(page):
    return page.get_by_role("combobox", name="Search by generic or brand name")


def options(page):
    return page.get_by_role("listbox", name="Matches").get_by_role("option")


def retype(page, text):
    box = search_box(page)
    box.fill("")
    box.press_sequentially(text)


def test_typing_a_brand_name_picks_its_generic_drug(trial_page, screenshot):
    page = trial_page
    select = page.locator("#id_drug")
    choice = page.locator(".drug-picker-choice")

    retype(page, "Lex")
    expect(options(page).first).to_have_text(re.compile(r"^Lexapro → escitalopram\s+SSRI"))
    screenshot(page, "drug-picker-lex")

    for typed, generic, how, details in [
        ("Lexapro", "escitalopram", "enter", "SSRI · adequate ≥ 10 mg/day"),
        ("Effexor", "venlafaxine", "click", "SNRI · adequate ≥ 150 mg/day"),
        ("Zoloft", "sertraline", "enter", "SSRI · adequate ≥ 50 mg/day"),
    ]:
        retype(page, typed)
        expect(options(page).first).to_contain_text(f"{typed} → {generic}")
        if how == "enter":
            search_box(page).press("Enter")
        else:
            options(page).first.click()
        expect(select).to_have_value(str(drug(generic).pk))
        expect(search_box(page)).to_have_value(generic)
        expect(choice).to_have_text(f"Chosen: {generic} · {details}")
        expect(search_box(page)).to_have_attribute("aria-expanded", "false")
        expect(page.locator("#dose-hint")).to_have_text(details.split(" · ")[1])


def test_arrow_keys_and_enter_alone_choose_a_drug(trial_page):
    page = trial_page
    box = search_box(page)
    box.focus()
    box.press("ArrowDown")  # an empty box lists the catalog, common antidepressants first
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(options(page).first).to_contain_text("bupropion")
    expect(box).to_have_attribute("aria-activedescendant", options(page).first.get_attribute("id"))

    box.press_sequentially("ven")
    expect(options(page)).to_have_text(
        [
            re.compile("^venlafaxine"),
            re.compile("^desvenlafaxine"),
            re.compile("^Aventyl → nortriptyline"),
        ]
    )
    expect(page.get_by_role("status")).to_have_text(re.compile("^3 drugs match"))
    box.press("End")
    expect(options(page).nth(2)).to_have_attribute("aria-selected", "true")
    box.press("Home")
    box.press("ArrowDown")
    second = options(page).nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    box.press("Enter")

    expect(page.locator("#id_drug")).to_have_value(str(drug("desvenlafaxine").pk))
    expect(box).to_have_value("desvenlafaxine")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile("."))

    # Editing the text away from a drug's name empties the field; Escape then clears the box.
    box.press_sequentially("x")
    expect(page.get_by_text("No drug matches 'desvenlafaxinex'", exact=True)).to_be_visible()
    expect(page.locator("#id_drug")).to_have_value("")
    box.press("Backspace")
    expect(page.locator("#id_drug")).to_have_value(str(drug("desvenlafaxine").pk))
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("desvenlafaxine")
    box.press("Escape")
    expect(box).to_have_value("")
    expect(page.locator("#id_drug")).to_have_value("")


def test_unknown_text_says_so_and_the_form_refuses_it(trial_page):
    page = trial_page
    retype(page, "xyz")
    expect(page.get_by_text("No drug matches 'xyz'", exact=True)).to_be_visible()
    expect(search_box(page)).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("status")).to_have_text("No drug matches 'xyz'.")
    expect(page.locator("#id_drug")).to_have_value("")

    page.get_by_role("button", name="Save trial").click()
    expect(page.locator("#div_id_drug")).to_contain_text("This field is required.")
    assert not Trial.objects.filter(patient=page.patient).exists()


def test_saving_the_form_records_the_chosen_drug(trial_page):
    page = trial_page
    retype(page, "zoloft")
    options(page).first.click()
    start = today() - timedelta(days=60)
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("Starting dose").fill("100")
    page.get_by_role("button", name="Save trial").click()

    expect(page.get_by_role("alert")).to_contain_text("Trial of sertraline added.")
    trial = Trial.objects.get(patient=page.patient)
    assert (trial.drug, trial.start_date) == (drug("sertraline"), start)


def test_without_javascript_the_plain_list_names_each_drug_generic_first(
    browser, signed_in, live_server
):
    seed_users(PASSWORD)
    patient = PatientFactory(practice=Practice.objects.get(name=DEMO_PRACTICE))
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("demo-clinician")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/patients/{patient.pk}/trials/new/")

        select = page.get_by_label("Drug")
        expect(select).to_be_visible()
        expect(page.locator(".drug-picker")).to_be_hidden()
        labels = select.locator("option").all_text_contents()
        assert labels[:3] == [
            "Choose a drug…",
            "bupropion (Wellbutrin, Zyban) — NDRI",
            "citalopram (Celexa, Cipramil) — SSRI",
        ]
        assert "escitalopram (Lexapro, Cipralex) — SSRI" in labels
        assert labels.index("venlafaxine (Effexor) — SNRI") < labels.index(
            "agomelatine (Valdoxan) — Melatonergic"
        )
    finally:
        context.close()
