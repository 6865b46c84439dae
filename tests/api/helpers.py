"""Small helpers shared by the API tests: URLs, payloads and database snapshots."""

from datetime import date, timedelta

from audit.models import AuditEvent
from core.dates import today
from treatments.models import DoseChange, Therapy, Trial

API = "/api/v1"
TOKEN_URL = f"{API}/auth/token/"
DRUGS_URL = f"{API}/drugs/"
PATIENTS_URL = f"{API}/patients/"
SCHEMA_URL = f"{API}/schema/"
DOCS_URL = f"{API}/docs/"

# A fixed, long-past stretch of dates so TRD scenarios never depend on the day the suite runs.
DAY0 = date(2023, 1, 2)


def day(n: int) -> str:
    """DAY0 + n days as an ISO string."""
    return (DAY0 + timedelta(days=n)).isoformat()


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def days_ahead(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def patient_url(patient_id) -> str:
    return f"{PATIENTS_URL}{patient_id}/"


def trials_url(patient_id) -> str:
    return f"{patient_url(patient_id)}trials/"


def trial_url(patient_id, trial_id) -> str:
    return f"{trials_url(patient_id)}{trial_id}/"


def therapies_url(patient_id) -> str:
    return f"{patient_url(patient_id)}therapies/"


def therapy_url(patient_id, therapy_id) -> str:
    return f"{therapies_url(patient_id)}{therapy_id}/"


def trd_url(patient_id, as_of=None) -> str:
    url = f"{patient_url(patient_id)}trd/"
    return url if as_of is None else f"{url}?as_of={as_of}"


def options_url(patient_id) -> str:
    return f"{patient_url(patient_id)}options/"


def trial_payload(**overrides) -> dict:
    """A valid closed sertraline trial: 60 days at 100 mg/day, no response."""
    payload = {
        "drug": "sertraline",
        "start_date": day(0),
        "end_date": day(60),
        "dose_mg": 100,
        "adherence": "good",
        "outcome": "no_response",
    }
    payload.update(overrides)
    return payload


def therapy_payload(**overrides) -> dict:
    payload = {
        "kind": "ect",
        "detail": "bilateral, 12 sessions",
        "start_date": day(0),
        "end_date": day(30),
        "outcome": "partial_response",
    }
    payload.update(overrides)
    return payload


def post_trial(client, patient_id, **overrides) -> dict:
    response = client.post(trials_url(patient_id), trial_payload(**overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def post_therapy(client, patient_id, **overrides) -> dict:
    response = client.post(therapies_url(patient_id), therapy_payload(**overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def results(body) -> list:
    """The rows of a paginated list answer."""
    assert set(body) >= {"count", "results"}, body
    return body["results"]


def clinical_counts() -> dict:
    """How many rows of each clinical table exist (deleted or not)."""
    return {
        "trials": Trial.objects.count(),
        "dose_changes": DoseChange.objects.count(),
        "therapies": Therapy.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def event_mark() -> int:
    """The id of the newest audit event; events cannot be deleted, so tests count from here."""
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def as_number(value) -> float:
    """A JSON number (never a string) as a float."""
    assert isinstance(value, (int, float)) and not isinstance(value, bool), value
    return float(value)


def assert_field_errors(response, field: str) -> dict:
    """A 400 whose body maps `field` (and every other key) to a list of message strings."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body, dict), body
    assert field in body, body
    for key, messages in body.items():
        assert isinstance(messages, list) and messages, (key, messages)
        assert all(isinstance(m, str) and m for m in messages), (key, messages)
    return body


# Every removal says why (body or ?reason=): a 400 without.
REMOVAL = {"reason": "entered in error"}
