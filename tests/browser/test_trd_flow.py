"""A clinician records two adequate failed trials in the browser and sees the patient meet TRD.

Set SCREENSHOTS=1 to also save full-page PNGs of the main screens to test-artifacts/.
"""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from accounts.models import Practice
from core.dates import today
from demo.seed import DEMO_PRACTICE, seed_users
from patients.models import Patient
from treatments.models import DoseChange, Trial

from ..factories import PASSWORD, PatientFactory, drug

pytestmark = [
    pytest.mark.browser,
    # The live server needs transactions; serialized_rollback restores the migrated drug
    # catalog that the previous transactional test flushed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def iso(day: date) -> str:
    return day.isoformat()


def fill_trial(page, *, drug_name, start, end, dose, adherence, outcome):
    page.get_by_label("Drug").select_option(value=str(drug(drug_name).pk))
    page.get_by_label("Start date").fill(iso(start))
    page.get_by_label("End date").fill(iso(end))
    page.get_by_label("Starting dose").fill(dose)
    page.get_by_label("Adherence").select_option(label=adherence)
    page.get_by_label("Outcome").select_option(label=outcome)


def test_two_adequate_failed_trials_meet_trd(page, signed_in, live_server, screenshot):
    assert drug("sertraline").min_adequate_dose_mg == 50  # the catalog was restored
    seed_users(PASSWORD)

    page.goto(live_server.url + "/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "01-login")
    signed_in(page, "demo-clinician", PASSWORD)
    expect(page.locator(".navbar")).to_contain_text(f"demo-clinician · {DEMO_PRACTICE}")

    # A new patient, through the form.
    page.get_by_role("link", name="Open the patient list").click()
    page.get_by_role("link", name="Add patient").click()
    episode_start = today() - timedelta(days=300)
    page.get_by_label("Record number").fill("BROWSER-001")
    page.get_by_label("Date of birth").fill("1980-05-17")
    page.get_by_label("Current episode began").fill(iso(episode_start))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Patient BROWSER-001 added.")
    expect(page.get_by_role("heading", name="Patient BROWSER-001")).to_be_visible()
    patient = Patient.objects.get(identifier="BROWSER-001")
    assert patient.practice == Practice.objects.get(name=DEMO_PRACTICE)
    assert patient.episode_start == episode_start
    expect(page.locator("#trd-status")).to_contain_text("Does not meet the TRD definition")

    # First trial: sertraline 100 mg/day for 70 days, no response. The catalog's
    # adequate dose shows as soon as the drug is chosen.
    page.get_by_role("link", name="Add trial").click()
    expect(page.locator("#dose-hint")).to_have_text("")
    page.get_by_label("Drug").select_option(value=str(drug("sertraline").pk))
    expect(page.locator("#dose-hint")).to_have_text("adequate ≥ 50 mg/day")
    sertraline_start = today() - timedelta(days=250)
    fill_trial(
        page,
        drug_name="sertraline",
        start=sertraline_start,
        end=sertraline_start + timedelta(days=70),
        dose="100",
        adherence="Good",
        outcome="No response",
    )
    page.get_by_role("button", name="Save trial").click()
    expect(page.get_by_role("alert")).to_contain_text("Trial of sertraline added.")
    expect(page.locator("#trd-status")).to_contain_text("Does not meet the TRD definition")

    # Second trial: venlafaxine 75 mg/day, raised to 150 mg/day after 14 days, 84 days in all.
    page.get_by_role("link", name="Add trial").click()
    expect(page.locator("tr.dose-row")).to_have_count(2)
    page.get_by_role("button", name="Add a dose change").click()
    expect(page.locator("tr.dose-row")).to_have_count(3)
    expect(page.locator("#id_doses-2-date")).to_be_visible()
    expect(page.locator("#id_doses-TOTAL_FORMS")).to_have_value("3")

    venlafaxine_start = today() - timedelta(days=160)
    # First with the end date typed before the start: the form says so and keeps the entries.
    fill_trial(
        page,
        drug_name="venlafaxine",
        start=venlafaxine_start,
        end=venlafaxine_start - timedelta(days=1),
        dose="75",
        adherence="Good",
        outcome="Partial response",
    )
    expect(page.locator("#dose-hint")).to_have_text("adequate ≥ 150 mg/day")
    page.locator("#id_doses-0-date").fill(iso(venlafaxine_start + timedelta(days=14)))
    page.locator("#id_doses-0-dose_mg").fill("150")
    page.get_by_role("button", name="Save trial").click()
    expect(page.locator("#id_end_date")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_text("The end date cannot be before the start date.")).to_be_visible()
    expect(page.locator("#id_doses-0-dose_mg")).to_have_value("150")
    expect(page.locator("#dose-hint")).to_have_text("adequate ≥ 150 mg/day")
    assert Trial.objects.filter(patient=patient).count() == 1
    screenshot(page, "04-trial-form-error")

    page.get_by_label("End date").fill(iso(venlafaxine_start + timedelta(days=84)))
    page.get_by_role("button", name="Save trial").click()
    expect(page.get_by_role("alert")).to_contain_text("Trial of venlafaxine added.")

    venlafaxine = Trial.objects.get(patient=patient, drug=drug("venlafaxine"))
    assert [(c.date, c.dose_mg) for c in DoseChange.objects.filter(trial=venlafaxine)] == [
        (venlafaxine_start + timedelta(days=14), 150)
    ]

    # The verdict, the timeline and the table.
    expect(page.locator("#trd-status")).to_contain_text("Meets the TRD definition")
    expect(page.locator("#trd-status")).to_have_class(re.compile(r"\bmeets\b"))
    # One group per row of the chart; a trial row holds a rect.trial outline.
    rows = page.locator(".timeline svg g").filter(has=page.locator("rect.trial"))
    expect(rows).to_have_count(2)
    expect(rows.locator("text.label")).to_have_text(["sertraline", "venlafaxine"])
    expect(page.locator(".timeline svg rect.trial")).to_have_count(2)
    expect(page.locator(".timeline svg rect.trial.counts")).to_have_count(2)
    expect(rows.nth(1).locator("rect.dose-low")).to_have_count(1)  # 75 mg/day, below 150
    expect(rows.nth(1).locator("rect.dose-adequate")).to_have_count(1)
    expect(page.locator("#trial-table tbody tr")).to_have_count(2)
    expect(page.locator("#trial-table").get_by_text("counts toward TRD")).to_have_count(2)
    expect(page.locator("#options h3").first).to_be_visible()
    screenshot(page, "03-patient-detail")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    expect(page.locator(".timeline svg")).to_be_visible()
    screenshot(page, "03b-patient-detail-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="Add therapy").click()
    expect(page.get_by_role("heading", name=re.compile("Add a therapy"))).to_be_visible()
    screenshot(page, "05-therapy-form")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("navigation").get_by_role("link", name="Patients").click()
    row = page.locator("tbody tr", has=page.get_by_role("link", name="BROWSER-001"))
    expect(row).to_contain_text("Meets TRD")
    expect(row.locator("td").last).to_have_text("2")
    screenshot(page, "02-patient-list")


def test_trial_ending_before_it_starts_is_refused_and_nothing_is_saved(
    page, signed_in, live_server
):
    seed_users(PASSWORD)
    patient = PatientFactory(
        practice=Practice.objects.get(name=DEMO_PRACTICE), identifier="BROWSER-002"
    )
    trials_before, changes_before = Trial.objects.count(), DoseChange.objects.count()

    signed_in(page, "demo-clinician", PASSWORD)
    page.goto(live_server.url + f"/patients/{patient.pk}/trials/new/")
    start = today() - timedelta(days=30)
    fill_trial(
        page,
        drug_name="sertraline",
        start=start,
        end=start - timedelta(days=10),
        dose="100",
        adherence="Good",
        outcome="No response",
    )
    page.locator("#id_doses-0-date").fill(iso(start + timedelta(days=7)))
    page.locator("#id_doses-0-dose_mg").fill("150")
    page.get_by_role("button", name="Save trial").click()

    expect(page.locator("#id_end_date")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_text("The end date cannot be before the start date.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/trials/new/$"))
    expect(page.get_by_label("Drug")).to_have_value(str(drug("sertraline").pk))
    assert Trial.objects.count() == trials_before
    assert DoseChange.objects.count() == changes_before


def test_another_practices_patient_url_is_not_found(page, signed_in, live_server):
    seed_users(PASSWORD)
    patient = PatientFactory(
        practice=Practice.objects.get(name=DEMO_PRACTICE), identifier="DEMO-SECRET"
    )

    signed_in(page, "second-clinician", PASSWORD)
    for path in (f"/patients/{patient.pk}/", f"/patients/{patient.pk}/trials/new/"):
        response = page.goto(live_server.url + path)
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(page.get_by_text("not part of your practice")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("DEMO-SECRET")
