"""Every export kind through a real Celery worker on Redis (not eager), on the real database."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from reports.models import ExportJob
from trdtracker.celery import app

from .exports_support import (
    ALL_KINDS,
    API_EXPORTS,
    content,
    csv_rows,
    fhir_bundle,
    pdf_text,
    seed_history,
    xlsx_rows,
)


def wait_until_finished(job_id: int, timeout: float = 60) -> tuple[ExportJob, list[int]]:
    """Poll the job as the Exports page does; return it and the progress values seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ExportJob.objects.get(pk=job_id)
        seen.append(job.progress)
        if job.status in ("done", "failed"):
            return job, seen
        time.sleep(0.05)
    raise AssertionError(f"export {job_id} did not finish: {job.status} {job.progress}%")


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_real_worker_runs_each_export_kind(redis_url, api, practice, patient, auditor, kind):
    assert app.conf.task_always_eager is False
    seed_history(practice, patient)
    payload = {"kind": kind}
    if kind == "patient_pdf":
        payload["patient"] = patient.pk

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        response = api(auditor).post(API_EXPORTS, payload, format="json")
        assert response.status_code == 202
        job, seen = wait_until_finished(response.json()["id"])

    assert (job.status, job.error) == ("done", "")
    assert seen == sorted(seen) and seen[-1] == 100  # progress only moves forward
    assert job.file_deleted is False and job.expires_at is not None
    if kind == "trials_csv":
        assert [r["drug"] for r in csv_rows(job)] == ["sertraline", "venlafaxine", "imipramine"]
    elif kind == "trials_xlsx":
        assert [r["drug"] for r in xlsx_rows(job)] == ["sertraline", "venlafaxine", "imipramine"]
    elif kind == "trd_register_csv":
        rows = {r["patient_identifier"]: r for r in csv_rows(job)}
        assert (rows["MRN-1"]["meets_trd"], rows["MRN-1"]["stage"]) == ("yes", "II")
    elif kind == "audit_csv":
        assert any(r["action"] == "export" for r in csv_rows(job))
    elif kind == "patient_pdf":
        data = content(job)
        assert data.startswith(b"%PDF") and "Patient MRN-1" in pdf_text(data)
    else:
        data, bundle = fhir_bundle(job)
        assert bundle.type == "collection" and len(data["entry"]) == 6  # + the ECT Procedure
    detail = api(auditor).get(f"{API_EXPORTS}{job.pk}/").json()
    assert detail["download_url"].endswith(f"/api/v1/exports/{job.pk}/download/")
