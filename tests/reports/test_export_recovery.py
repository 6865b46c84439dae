"""No export job is stranded: attempts, heartbeats, the sweep, and the private work folder."""

import stat
from datetime import timedelta

import pytest
from django.utils import timezone

from reports import exporters, services
from reports.models import ExportJob
from reports.tasks import export_run_task

from .exports_support import csv_rows

pytestmark = pytest.mark.usefixtures("eager")


@pytest.fixture
def work(settings, tmp_path):
    settings.EXPORT_WORK_DIR = tmp_path / "work"
    return settings.EXPORT_WORK_DIR


@pytest.fixture
def job(practice, auditor, history):
    """A trials export whose first attempt a worker took and then lost (no heartbeat since)."""
    created = ExportJob.objects.create(practice=practice, created_by=auditor, kind="trials_csv")
    ExportJob.objects.filter(pk=created.pk).update(
        status="running",
        progress=40,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )
    return created


def later(settings, seconds=1):
    return timezone.now() + timedelta(seconds=settings.EXPORT_STALE_SECONDS + seconds)


def test_a_job_whose_worker_stopped_beating_is_requeued_and_finished(job, work, settings):
    (work / f"job-{job.pk}-1.csv").parent.mkdir(parents=True)
    (work / f"job-{job.pk}-1.csv").write_text("patient_identifier,date_of_birth\nMRN-1,")

    assert services.exports_sweep() == {"requeued": 1, "failed": 0}

    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts, job.error) == ("done", 100, 2, "")
    assert len(csv_rows(job)) == 3
    assert list(work.iterdir()) == []


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(job, settings):
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())

    assert services.exports_sweep() == {"requeued": 0, "failed": 0}
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    assert services.exports_sweep(now=later(settings))["requeued"] == 1


def test_after_the_last_attempt_the_job_fails_with_a_reason(job, settings):
    settings.EXPORT_MAX_ATTEMPTS = 1

    assert services.exports_sweep() == {"requeued": 0, "failed": 1}

    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    assert "stopped 1 times before it could finish" in job.error
    assert not job.file


def test_a_job_no_worker_ever_took_is_requeued_after_the_time_limit(
    practice, auditor, history, settings
):
    lost = ExportJob.objects.create(practice=practice, created_by=auditor, kind="trials_csv")
    queued = timezone.now()
    ExportJob.objects.filter(pk=lost.pk).update(attempts=1, heartbeat_at=queued)

    assert services.exports_sweep(now=queued + timedelta(seconds=60))["requeued"] == 0
    waited = queued + timedelta(seconds=settings.EXPORT_TIME_LIMIT + 1)
    assert services.exports_sweep(now=waited) == {"requeued": 1, "failed": 0}
    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == ("done", 2)


def test_a_message_for_a_superseded_attempt_does_nothing(job):
    ExportJob.objects.filter(pk=job.pk).update(attempts=2, status="pending")

    export_run_task.delay(job.pk, 1)

    job.refresh_from_db()
    assert (job.status, job.attempts, bool(job.file)) == ("pending", 2, False)


def test_an_attempt_taken_away_mid_run_stops_and_keeps_no_file(job, work, monkeypatch):
    ExportJob.objects.filter(pk=job.pk).update(status="pending", attempts=1)
    original = services._set_progress

    def sweep_in_between(job_id, attempt, done, total):
        ExportJob.objects.filter(pk=job_id).update(attempts=2, status="pending")
        original(job_id, attempt, done, total)

    monkeypatch.setattr(services, "_set_progress", sweep_in_between)
    export_run_task.delay(job.pk, 1)

    job.refresh_from_db()
    assert (job.status, job.attempts, bool(job.file)) == ("pending", 2, False)
    assert list(work.iterdir()) == []


def test_a_failed_attempt_leaves_no_work_file_and_the_folder_is_private(job, work, monkeypatch):
    written = []

    def explode(job, path, progress):
        written.append(path)
        path.write_text("half a file")
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(exporters.WRITERS, "trials_csv", (explode, "csv"))
    export_run_task.delay(job.pk)

    job.refresh_from_db()
    assert job.status == "failed" and "disk on fire" in job.error
    assert written and written[0].parent == work and not written[0].exists()
    assert stat.S_IMODE(work.stat().st_mode) == 0o700


def test_the_sweep_is_on_the_beat_schedule():
    from trdtracker.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["reports.tasks.export_sweep_task"] == 60.0
