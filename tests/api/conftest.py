"""API clients for the standing cast, each authenticated with a real token."""

import pytest

from tests.factories import TherapyFactory, TrialFactory


@pytest.fixture
def as_clinician(api, clinician):
    return api(clinician)


@pytest.fixture
def as_colleague(api, colleague):
    return api(colleague)


@pytest.fixture
def as_auditor(api, auditor):
    return api(auditor)


@pytest.fixture
def as_admin(api, practice_admin):
    return api(practice_admin)


@pytest.fixture
def as_outsider(api, outsider):
    return api(outsider)


@pytest.fixture
def anonymous(api, db):
    return api()


@pytest.fixture
def records(patient):
    """One trial and one therapy of the clinician's patient."""
    return {"trial": TrialFactory(patient=patient), "therapy": TherapyFactory(patient=patient)}
