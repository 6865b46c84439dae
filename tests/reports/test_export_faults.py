"""Faults of the real services: a worker killed mid-export, and Redis stopped.

Each test starts a Redis server of its own (so it can stop it) and, where a worker is needed,
real `celery worker` processes on the test database.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from patients.models import Patient
from reports import services
from reports.models import ExportJob
from tests.conftest import celery_using
from tests.factories import drug
from treatments.models import Trial

from .exports_support import API_EXPORTS, WEB_EXPORTS, csv_rows

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 20_000  # 10 chunks of 2,000: an export that takes long enough to be killed mid-way


def seed_trials(practice, count: int) -> None:
    patients = Patient.objects.bulk_create(
        Patient(practice=practice, identifier=f"BULK-{n:05d}", date_of_birth=date(1970, 1, 1))
        for n in range(count // 10)
    )
    sertraline, start = drug("sertraline"), date(2024, 1, 1)
    Trial.objects.bulk_create(
        (
            Trial(
                patient=patient,
                drug=sertraline,
                start_date=start + timedelta(days=70 * n),
                end_date=start + timedelta(days=70 * n + 60),
                dose_mg=100,
                adherence="good",
                outcome="no_response",
            )
            for patient in patients
            for n in range(10)
        ),
        batch_size=5000,
    )


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery worker` as a process of its own, on the test database and the given Redis."""

    def __init__(self, name: str, redis_url: str, log: Path):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "EXPORT_WORK_DIR": str(settings.EXPORT_WORK_DIR),
        }
        self.log = open(log, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "trdtracker",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the whole worker: the main process and its pool child."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_export_killed_with_its_worker_is_requeued_and_finished_by_a_new_worker(
    postgres, redis_server, settings, tmp_path, practice, auditor
):
    settings.EXPORT_WORK_DIR = tmp_path / "work"
    seed_trials(practice, TRIALS)
    workers = []
    try:
        with celery_using(redis_server.url):
            first = Worker("doomed", redis_server.url, tmp_path / "doomed.log")
            workers.append(first)
            job = services.export_request(user=auditor, kind="trials_csv", options={})

            def mid_export():
                current = ExportJob.objects.get(pk=job.pk)
                return current.status == "running" and 0 < current.progress < 99 and current

            running = wait_for(mid_export, 90, "the first worker to be mid-export")
            left_behind = list(settings.EXPORT_WORK_DIR.iterdir())
            first.kill()

            job.refresh_from_db()
            assert (job.status, job.attempts) == ("running", 1), "finished before the kill"
            assert running.progress > 0 and len(left_behind) == 1
            assert left_behind[0].name == f"job-{job.pk}-1.csv"

            # A minute of beat later the heartbeat is stale: the sweep takes the job back.
            stale_at = timezone.now() + timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
            assert services.exports_sweep(now=stale_at) == {"requeued": 1, "failed": 0}
            assert list(settings.EXPORT_WORK_DIR.iterdir()) == []

            workers.append(Worker("rescuer", redis_server.url, tmp_path / "rescuer.log"))
            started = time.monotonic()
            wait_for(
                lambda: ExportJob.objects.get(pk=job.pk).status in ("done", "failed"),
                120,
                "the new worker to finish the export",
            )
            took = time.monotonic() - started
    finally:
        for worker in workers:
            worker.stop()

    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts, job.error) == ("done", 100, 2, ""), took
    rows = csv_rows(job)
    assert len(rows) == TRIALS and rows[-1]["patient_identifier"] == f"BULK-{TRIALS // 10 - 1:05d}"
    assert list(settings.EXPORT_WORK_DIR.iterdir()) == []
    stored = [p for p in (settings.MEDIA_ROOT / "exports").rglob("*") if p.is_file()]
    assert stored == [Path(job.file.path)]


@pytest.fixture
def redis_settings(settings, redis_server):
    """The cache, the sessions and Celery on a Redis server this test can stop."""
    settings.CACHES = {
        "default": {
            "BACKEND": "trdtracker.cache.FailOpenRedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    with celery_using(redis_server.url):
        yield redis_server


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_redis_down_pages_sign_in_and_the_api_keep_working(
    redis_settings, client, login, api, clinician, auditor, patient, password
):
    assert login(auditor).get("/dashboard/").status_code == 200  # computed, then cached
    redis_settings.stop()

    assert login(auditor).get("/dashboard/").status_code == 200  # computed without the cache
    client.logout()
    signed_in = client.post("/accounts/login/", {"username": "clinician", "password": password})
    assert signed_in.status_code == 302
    assert client.get("/patients/").status_code == 200
    assert client.get(f"/patients/{patient.pk}/").status_code == 200
    assert api(clinician).get("/api/v1/patients/").status_code == 200


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_redis_down_an_export_answers_503_at_once_and_its_job_fails_with_the_reason(
    redis_settings, login, api, clinician, auditor, patient
):
    redis_settings.stop()

    started = time.monotonic()
    response = api(auditor).post(API_EXPORTS, {"kind": "trials_csv"}, format="json")
    took = time.monotonic() - started
    assert response.status_code == 503 and took < 5, (response.status_code, took)
    assert "export queue is unreachable" in response.json()["detail"]

    page = login(auditor).post(WEB_EXPORTS, {"kind": "trd_register_csv"})
    assert page.status_code == 503
    assert "export queue is unreachable" in page.content.decode()

    started = time.monotonic()
    button = login(clinician).post(f"/reports/exports/patient/{patient.pk}/")
    assert button.status_code == 503 and time.monotonic() - started < 5

    jobs = ExportJob.objects.order_by("pk")
    assert [(j.kind, j.status) for j in jobs] == [
        ("trials_csv", "failed"),
        ("trd_register_csv", "failed"),
        ("patient_pdf", "failed"),
    ]
    assert all("export queue is unreachable" in j.error and j.finished_at for j in jobs)


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_redis_down_readiness_names_the_cache_and_the_broker(redis_settings, client):
    assert client.get("/readyz").status_code == 200
    redis_settings.stop()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["cache", "broker"]}
    assert client.get("/healthz").status_code == 200
