"""Hostile input is a 400 with field messages, never a 500, and saves nothing."""

import json

import pytest

from audit.models import AuditEvent
from patients.models import Patient
from reports.models import ExportJob


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/v1/patients/", "/api/v1/exports/"])
@pytest.mark.parametrize("levels", [65, 1000, 100_000])
def test_json_nested_too_deep_is_a_400(api, clinician, url, levels):
    client = api(clinician) if url != "/api/v1/auth/token/" else api()

    response = client.post(url, nested(levels), content_type="application/json")

    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["detail"]
    assert not Patient.objects.exists() and not ExportJob.objects.exists()


def test_json_within_the_depth_limit_is_read(api, clinician):
    body = {
        "identifier": "DEEP-1",
        "date_of_birth": "1980-01-01",
        "notes": "x",
        "extra": json.loads(nested(60)),
    }

    response = api(clinician).post("/api/v1/patients/", body, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("body", ["[]", '"trials_csv"', "null", "42", '[{"kind": "trials_csv"}]'])
def test_an_export_request_must_be_an_object(api, auditor, body):
    response = api(auditor).post("/api/v1/exports/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Send a JSON object."]}
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("options", [[], "drug_class=SSRI", 7, True])
def test_export_options_must_be_an_object(api, auditor, options):
    response = api(auditor).post(
        "/api/v1/exports/", {"kind": "trials_csv", "options": options}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"options": ["Must be an object."]}
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01"])
def test_audit_filter_dates_out_of_range_are_a_400(api, login, auditor, until):
    response = api(auditor).get("/api/v1/audit-events/", {"until": until})
    assert response.status_code == 400 and "until" in response.json()

    page = login(auditor).get("/audit/", {"until": until})
    assert page.status_code == 200 and page.context["form"].errors["until"]

    export = api(auditor).post(
        "/api/v1/exports/", {"kind": "audit_csv", "until": until}, format="json"
    )
    assert export.status_code == 400 and "until" in export.json()


def test_a_web_sign_in_with_a_huge_username_fails_politely_and_is_audited(client, db):
    response = client.post("/accounts/login/", {"username": "u" * 300, "password": "x"})

    assert response.status_code == 200
    assert response.context["form"].errors
    (event,) = AuditEvent.objects.filter(action="login_failed")
    assert event.actor == "u" * 150


@pytest.mark.parametrize("born", ["0001-01-01", "1850-06-01", "1899-12-31"])
def test_a_date_of_birth_before_1900_is_a_400(api, clinician, born):
    response = api(clinician).post(
        "/api/v1/patients/", {"identifier": "OLD-1", "date_of_birth": born}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["date_of_birth"] == ["Cannot be before 1 January 1900."]
    assert not Patient.objects.exists()


def test_a_record_number_is_trimmed_and_unique_whatever_its_case(api, clinician, patient):
    response = api(clinician).post(
        "/api/v1/patients/",
        {"identifier": "  mrn-1 ", "date_of_birth": "1980-01-01"},
        format="json",
    )

    assert response.status_code == 400
    assert "already exists" in response.json()["identifier"][0]
    assert Patient.objects.count() == 1
    created = api(clinician).post(
        "/api/v1/patients/",
        {"identifier": "  MRN-2 ", "date_of_birth": "1980-01-01"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["identifier"] == "MRN-2"
