import os
from datetime import date, timedelta

from imports import parsing, services
from imports.models import ImportJob, ImportStatus
from patients.models import Patient
from treatments.models import Trial

from .test_csv_import import HEADER

ROWS = int(os.environ.get("IMPORT_TEST_ROWS", "1000"))  # 10,000 timed locally


def large_csv(rows: int) -> bytes:
    lines = [HEADER]
    for n in range(rows):
        start = date(2020, 1, 1) + timedelta(days=n % 700)
        lines.append(
            f"BULK-{n // 4:05d},1970-01-01,sertraline,SSRI,{start},"
            f"{start + timedelta(days=60)},100,150,60,good,no_response,yes,yes,\n"
        )
    return "".join(lines).encode()


def test_a_large_csv_reports_progress_and_completes(clinician, upload, confirm, monkeypatch):
    seen = []
    real_parse, real_progress = parsing.parse_csv, services._progress

    def parse(data, progress=None):
        def spy(done, total):
            progress(done, total)
            seen.append(("preview", done, total))

        return real_parse(data, spy)

    def confirm_progress(job, done, total):
        real_progress(job, done, total)
        if done % 500 == 0:
            # What a reader outside the import's transaction sees: the cache's copy.
            outside = ImportJob(pk=job.pk, status=ImportStatus.CONFIRMING, progress=0)
            seen.append(("confirm", done, total, outside.live_progress))

    monkeypatch.setattr(parsing, "parse_csv", parse)
    monkeypatch.setattr(services, "_progress", confirm_progress)

    job = upload(clinician, large_csv(ROWS))

    assert job.status == ImportStatus.READY, job.error
    assert job.progress == 100
    assert job.preview["counts"]["trials"] == {"create": ROWS, "present": 0}
    assert [s[1] for s in seen if s[0] == "preview"] == list(range(500, ROWS + 1, 500))
    job = confirm(clinician, job)
    assert job.status == ImportStatus.DONE, job.error
    confirmed = [s for s in seen if s[0] == "confirm"]
    assert len(confirmed) == ROWS // 500
    assert all(0 < step[3] < 100 for step in confirmed)  # progress visible while it runs
    assert Trial.objects.count() == ROWS
    assert Patient.objects.count() == ROWS // 4


def test_a_failure_while_confirming_saves_nothing(clinician, upload, confirm, monkeypatch):
    job = upload(clinician, large_csv(8))

    def broken(**kwargs):
        raise RuntimeError("disk full")

    calls = []
    real = services.treatment_services.trial_create

    def second_fails(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            broken()
        return real(**kwargs)

    monkeypatch.setattr(services.treatment_services, "trial_create", second_fails)
    job = confirm(clinician, job)

    assert job.status == ImportStatus.FAILED
    assert "Nothing was imported" in job.error
    assert not Patient.objects.exists() and not Trial.objects.exists()
