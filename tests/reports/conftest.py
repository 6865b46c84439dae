import pytest

from .exports_support import seed_history


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Export files go to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def eager():
    """Tasks run in the test even when REDIS_URL points Celery at a real broker."""
    from trdtracker.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def history(practice, patient):
    return seed_history(practice, patient)
