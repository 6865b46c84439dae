"""An auditor starts a trials export on the Exports page, watches its progress bar reach done
without reloading, and downloads the CSV.

Set SCREENSHOTS=1 to also save the Exports page in progress and done to test-artifacts/.
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Practice
from demo.seed import DEMO_PRACTICE, seed_users
from reports import services
from reports.models import ExportJob

from ..factories import PASSWORD, PatientFactory
from ..reports.exports_support import seed_history

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_an_auditor_exports_trials_and_downloads_the_csv(
    page, signed_in, live_server, screenshot, monkeypatch
):
    seed_users(PASSWORD)
    practice = Practice.objects.get(name=DEMO_PRACTICE)
    seed_history(practice, PatientFactory(practice=practice, identifier="MRN-1"))
    # The worker is this test: the job waits until the test runs it, step by step.
    monkeypatch.setattr("reports.tasks.export_run_task.delay", lambda *args: None)

    signed_in(page, "demo-auditor", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Exports").click()
    expect(page.get_by_role("heading", name="Exports", exact=True)).to_be_visible()
    page.locator("#id_kind").select_option(label="Trials (CSV)")
    page.get_by_role("button", name="Start export").click()
    expect(page.get_by_role("alert")).to_contain_text("started: Trials (CSV).")

    job = ExportJob.objects.get()
    row = page.locator(f"#export-{job.pk}")
    bar = row.locator(".progress-bar")
    expect(row.locator('[data-role="status"]')).to_have_text("pending")
    page.evaluate("window.notReloaded = true")

    ExportJob.objects.filter(pk=job.pk).update(status="running", progress=40)
    expect(bar).to_have_text("40%")
    expect(bar).to_have_attribute("style", re.compile(r"width: 40%"))
    expect(row.locator('[data-role="status"]')).to_have_text("running")
    page.wait_for_timeout(700)  # let Bootstrap's width transition finish for the picture
    screenshot(page, "10-exports-in-progress")

    services.export_run(job.pk)
    expect(row.locator('[data-role="status"]')).to_have_text("done")
    expect(bar).to_have_text("100%")
    expect(bar).to_have_attribute("style", re.compile(r"width: 100%"))
    assert page.evaluate("window.notReloaded") is True
    page.wait_for_timeout(700)
    screenshot(page, "11-exports-done")

    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as exported:
        lines = exported.read().splitlines()
    assert lines[0].startswith("patient_identifier,date_of_birth,drug,drug_class,start_date")
    assert lines[1].startswith("MRN-1,1980-05-17,sertraline,SSRI,")
    assert len(lines) == 4
