import pytest

from .exports_support import seed_history


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Export files go to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def history(practice, patient):
    return seed_history(practice, patient)
