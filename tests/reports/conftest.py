import pytest

from reports.models import ExportJob

from .exports_support import API_EXPORTS, seed_history


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Export files go to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def history(practice, patient):
    return seed_history(practice, patient)


@pytest.fixture
def run_export(api, django_capture_on_commit_callbacks):
    """POST an export as `user` and run the task the commit enqueues; the job, reloaded."""

    def run(user, **payload):
        with django_capture_on_commit_callbacks(execute=True):
            response = api(user).post(API_EXPORTS, payload, format="json")
        assert response.status_code == 202, response.content
        assert set(response.json()) == {"id", "status", "progress"}
        return ExportJob.objects.get(pk=response.json()["id"])

    return run
