"""GET requests never write: reading pages leaves the database as it was, except for the audit
trail of who read what and the session's idle clock, which is stored at most once a minute
(accounts.middleware.IdleTimeoutMiddleware)."""

import re
import time
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.dates import today
from patients.models import Patient
from tests.factories import (
    DoseChangeFactory,
    PatientFactory,
    TherapyFactory,
    TrialFactory,
    drug,
    phq9,
)

# Anywhere in the statement, so that a write inside a WITH clause counts too.
WRITE = re.compile(
    r'\b(INSERT\s+INTO|UPDATE\s+"|DELETE\s+FROM|REPLACE\s+INTO|MERGE\s+INTO|TRUNCATE)\b',
    re.IGNORECASE,
)
AUDIT_INSERT = re.compile(r'^\s*INSERT INTO "audit_[a-z_]+" ', re.IGNORECASE)
SESSION_WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE) "django_session" ', re.IGNORECASE)

PAGES = {
    "worklist home": lambda patient, trial: reverse("home"),
    "patient list": lambda patient, trial: reverse("patients:patient-list"),
    "patient list, page 2": lambda patient, trial: reverse("patients:patient-list") + "?page=2",
    "dashboard": lambda patient, trial: reverse("dashboard:dashboard"),
    "patient page": lambda patient, trial: patient.get_absolute_url(),
    "trial form": lambda patient, trial: reverse(
        "treatments:trial-edit", args=[patient.pk, trial.pk]
    ),
    "API patient list": lambda patient, trial: "/api/v1/patients/",
    "API patient detail": lambda patient, trial: f"/api/v1/patients/{patient.pk}/",
    "API trial list": lambda patient, trial: f"/api/v1/patients/{patient.pk}/trials/",
}


@pytest.fixture
def history(practice):
    """A practice with 30 patients (two list pages) with trials, dose changes, a therapy and
    PHQ-9s, one of them with item 9 above 0. Returns the first patient and one trial."""
    start = today() - timedelta(days=400)
    for index in range(30):
        patient = PatientFactory(practice=practice, identifier=f"MRN-{index:03d}")
        for number, name in enumerate(["sertraline", "venlafaxine"]):
            trial = TrialFactory(
                patient=patient,
                drug=drug(name),
                start_date=start + timedelta(days=90 * number),
                end_date=start + timedelta(days=90 * number + 70),
            )
            DoseChangeFactory(trial=trial)
        TherapyFactory(patient=patient)
        phq9(patient, item9=1 if index == 0 else 0, days_ago=30)
        phq9(patient, item9=0, days_ago=3 + index)
    first = Patient.objects.get(identifier="MRN-000")
    return first, first.trials.first()


@pytest.fixture
def clock():
    """time.time() under the test's control (the idle clock reads it)."""
    now = [time.time()]
    with mock.patch("time.time", side_effect=lambda: now[0]):
        yield now


@contextmanager
def all_sql():
    """Every statement on every database connection inside the block. A test mirror (the
    migrations' "owner" alias) is the default's connection under another name: any request
    that used it would fail here anyway, as the test does not allow that alias."""
    with ExitStack() as stack:
        captured = [
            stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in connections
            if not connections[alias].settings_dict["TEST"].get("MIRROR")
        ]
        statements = []
        yield statements
    statements.extend(query["sql"] for context in captured for query in context.captured_queries)


def writes(statements) -> tuple[list[str], list[str]]:
    """(session writes, any other write that is not an audit event) among `statements`."""
    found = [sql for sql in statements if WRITE.search(sql)]
    session = [sql for sql in found if SESSION_WRITE.match(sql)]
    other = [sql[:200] for sql in found if sql not in session and not AUDIT_INSERT.match(sql)]
    return session, other


def get(client, url):
    with all_sql() as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return statements


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES.values(), ids=PAGES.keys())
def test_reading_a_page_writes_nothing_but_the_audit_trail(client, clinician, history, clock, page):
    url = page(*history)
    client.force_login(clinician)
    first = get(client, url)
    session, other = writes(first)
    assert other == []
    assert len(session) <= 1  # the first request starts the idle clock

    clock[0] += 50
    again = get(client, url)
    assert writes(again) == ([], [])


@pytest.mark.django_db
def test_the_session_is_written_again_once_its_minute_has_passed(client, clinician, history, clock):
    url = reverse("patients:patient-list")
    client.force_login(clinician)
    get(client, url)
    clock[0] += 59
    assert writes(get(client, url)) == ([], [])

    clock[0] += 2  # 61 s after the idle clock was stored
    session, other = writes(get(client, url))
    assert (len(session), other) == (1, [])
    assert writes(get(client, url)) == ([], [])


@pytest.mark.django_db
def test_the_audit_trail_is_still_written_on_every_read(client, clinician, history, clock):
    """The allowance above is what it says: each read of the list records one view event."""
    url = reverse("patients:patient-list")
    client.force_login(clinician)
    get(client, url)
    audit = [sql for sql in get(client, url) if AUDIT_INSERT.match(sql)]
    assert any('"audit_auditevent"' in sql for sql in audit)
