"""One corpus of hostile inputs against every API write endpoint and every web form: never a
5xx, and nothing saved when the answer is a 4xx (or a form shown again)."""

import pytest

from audit.models import AuditEvent
from patients.models import Patient
from reports.models import ExportJob
from tests.factories import TherapyFactory, TrialFactory
from treatments.models import ScaleScore, Therapy, Trial

HOSTILE = [
    "",
    " ",
    "x" * 100_000,
    "\x00",
    "nul\x00inside",
    '=HYPERLINK("http://x","y")',
    "<script>alert(1)</script>",
    "'; DROP TABLE patients; --",
    "9999-12-31",
    "0001-01-01",
    "1900-02-30",
    "-1",
    "0",
    "1e309",
    "NaN",
    str(2**63),
    str(-(2**63) - 1),
    "true",
    None,
    True,
    12.5,
    -7,
    2**70,
    [],
    ["a"],
    {},
    {"nested": {"deeper": [1, 2]}},
]

API_WRITES = {
    # (method, url template, fields)
    "patients": (
        "post",
        "/api/v1/patients/",
        [
            "identifier",
            "date_of_birth",
            "episode_start",
            "baseline_severity",
            "suicide_risk_flag",
            "notes",
        ],
    ),
    "patient": (
        "patch",
        "/api/v1/patients/{patient}/",
        ["identifier", "date_of_birth", "episode_start", "suicide_risk_flag", "notes"],
    ),
    "trials": (
        "post",
        "/api/v1/patients/{patient}/trials/",
        [
            "drug",
            "start_date",
            "end_date",
            "dose_mg",
            "dose_changes",
            "adherence",
            "outcome",
            "reason_stopped",
            "notes",
        ],
    ),
    "trial": (
        "patch",
        "/api/v1/patients/{patient}/trials/{trial}/",
        ["drug", "start_date", "end_date", "dose_mg", "dose_changes", "outcome", "notes"],
    ),
    "therapies": (
        "post",
        "/api/v1/patients/{patient}/therapies/",
        ["kind", "detail", "start_date", "end_date", "outcome", "notes"],
    ),
    "therapy": (
        "patch",
        "/api/v1/patients/{patient}/therapies/{therapy}/",
        ["kind", "start_date", "end_date", "outcome"],
    ),
    "scores": ("post", "/api/v1/patients/{patient}/scores/", ["scale", "date", "total", "items"]),
    "exports": (
        "post",
        "/api/v1/exports/",
        ["kind", "since", "until", "patient", "options", "deidentify", "trd_status", "drug_class"],
    ),
    "token": ("post", "/api/v1/auth/token/", ["username", "password", "otp"]),
}
VALID = {
    "patients": {"identifier": "OK-1", "date_of_birth": "1980-01-01"},
    "patient": {},
    "trials": {"drug": "sertraline", "start_date": "2024-01-01", "dose_mg": 100},
    "trial": {},
    "therapies": {"kind": "ect", "start_date": "2024-01-01"},
    "therapy": {},
    "scores": {"scale": "madrs", "date": "2024-01-01", "total": 20},
    "exports": {"kind": "trials_csv"},
    "token": {"username": "clinician", "password": "wrong-password"},
}


def saved_counts():
    return (
        Patient.objects.count(),
        Trial.objects.count(),
        Therapy.objects.count(),
        ScaleScore.objects.count(),
        ExportJob.objects.count(),
    )


@pytest.fixture
def records(patient):
    return {
        "patient": patient.pk,
        "trial": TrialFactory(patient=patient).pk,
        "therapy": TherapyFactory(patient=patient).pk,
    }


@pytest.mark.parametrize("endpoint", API_WRITES, ids=API_WRITES)
def test_no_hostile_value_in_any_api_field_gives_a_5xx_or_a_partial_save(
    api, auditor, clinician, records, endpoint, settings, tmp_path
):
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path
    method, template, fields = API_WRITES[endpoint]
    client = api(auditor if endpoint == "exports" else clinician)
    url = template.format(**records)
    for field in fields:
        for value in HOSTILE:
            cache.clear()  # the token and export budgets are not what is under test here
            before = saved_counts()
            response = getattr(client, method)(
                url, {**VALID[endpoint], field: value}, format="json"
            )
            assert response.status_code < 500, (endpoint, field, repr(value)[:60])
            if response.status_code >= 400:
                assert saved_counts() == before, (endpoint, field, repr(value)[:60])


WEB_FORMS = {
    "patients:patient-add": (
        "/patients/new/",
        ["identifier", "date_of_birth", "episode_start", "notes"],
    ),
    "patients:patient-edit": (
        "/patients/{patient}/edit/",
        ["identifier", "date_of_birth", "version"],
    ),
    "treatments:trial-add": (
        "/patients/{patient}/trials/new/",
        [
            "drug",
            "start_date",
            "end_date",
            "dose_mg",
            "doses-0-date",
            "doses-0-dose_mg",
            "doses-TOTAL_FORMS",
        ],
    ),
    "treatments:trial-edit": (
        "/patients/{patient}/trials/{trial}/edit/",
        ["drug", "start_date", "dose_mg", "version", "doses-TOTAL_FORMS"],
    ),
    "treatments:therapy-add": (
        "/patients/{patient}/therapies/new/",
        ["kind", "start_date", "end_date", "outcome"],
    ),
    "treatments:score-add": (
        "/patients/{patient}/scores/new/",
        ["scale", "date", "total", "item_1"],
    ),
    "reports:export-list": ("/reports/exports/", ["kind", "since", "until", "patient"]),
    "login": ("/accounts/login/", ["username", "password"]),
    "accounts:password-reset": ("/accounts/password-reset/", ["email"]),
    "accounts:invitation-add": ("/accounts/invitations/new/", ["email", "roles"]),
    "accounts:practice-settings": ("/accounts/settings/", ["require_2fa", "session_idle_minutes"]),
}
WEB_VALUES = [v for v in HOSTILE if isinstance(v, str)]


@pytest.mark.parametrize("name", WEB_FORMS, ids=WEB_FORMS)
def test_no_hostile_value_in_any_web_form_field_gives_a_5xx(
    client, name, records, clinician, practice_admin, auditor
):
    from django.core.cache import cache

    url_template, fields = WEB_FORMS[name]
    user = {
        "reports:export-list": auditor,
        "accounts:invitation-add": practice_admin,
        "accounts:practice-settings": practice_admin,
    }.get(name, clinician)
    url = url_template.format(**records)
    for field in fields:
        for value in WEB_VALUES:
            cache.clear()
            if name not in ("login", "accounts:password-reset"):
                client.force_login(user)
            events = AuditEvent.objects.count()
            response = client.post(url, {field: value})
            assert response.status_code < 500, (name, field, repr(value)[:60])
            assert AuditEvent.objects.count() >= events


@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/exports/", "/api/v1/auth/token/"])
def test_invalid_utf8_is_a_400(api, clinician, url):
    response = api(clinician).post(
        url, b'{"identifier": "\xed\xa0\x80\xff"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert not Patient.objects.exists()
