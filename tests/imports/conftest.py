import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.models import ImportJob

API_IMPORTS = "/api/v1/imports/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded and exported files go to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _eager_tasks(eager):
    """The preview, confirm and export tasks run in the test, also when REDIS_URL points Celery
    at a real broker (CI)."""


@pytest.fixture
def upload(api, django_capture_on_commit_callbacks):
    """POST a file as `user` and run the preview task the commit enqueues; the job, reloaded."""

    def run(user, data: bytes, name: str = "trials.csv", **extra):
        with django_capture_on_commit_callbacks(execute=True):
            response = api(user).post(
                API_IMPORTS, {"file": SimpleUploadedFile(name, data), **extra}, format="multipart"
            )
        assert response.status_code == 202, response.content
        assert set(response.json()) == {"id", "status", "progress"}
        return ImportJob.objects.get(pk=response.json()["id"])

    return run


@pytest.fixture
def confirm(api, django_capture_on_commit_callbacks):
    def run(user, job):
        with django_capture_on_commit_callbacks(execute=True):
            response = api(user).post(f"{API_IMPORTS}{job.pk}/confirm/")
        assert response.status_code == 202, response.content
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def run_export(api, django_capture_on_commit_callbacks):
    """Run an export as `user` eagerly; the file's bytes."""
    from reports.models import ExportJob

    def run(user, **payload):
        with django_capture_on_commit_callbacks(execute=True):
            response = api(user).post("/api/v1/exports/", payload, format="json")
        assert response.status_code == 202, response.content
        job = ExportJob.objects.get(pk=response.json()["id"])
        assert job.status == "done", job.error
        with job.file.open("rb") as handle:
            return handle.read()

    return run
