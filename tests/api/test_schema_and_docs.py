"""GET /api/v1/schema/ (OpenAPI) and /api/v1/docs/ (Swagger UI)."""

import json

from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats

from .helpers import DOCS_URL, SCHEMA_URL

PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/drugs/",
    "/api/v1/patients/",
    "/api/v1/patients/{id}/",
    "/api/v1/patients/{patient_id}/trials/",
    "/api/v1/patients/{patient_id}/trials/{id}/",
    "/api/v1/patients/{patient_id}/therapies/",
    "/api/v1/patients/{patient_id}/therapies/{id}/",
    "/api/v1/patients/{patient_id}/trd/",
    "/api/v1/patients/{patient_id}/options/",
]


def schema(client) -> dict:
    response = client.get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def test_the_schema_is_an_openapi_document_listing_every_endpoint(as_clinician):
    document = schema(as_clinician)

    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "TRD Tracker API"
    assert set(PATHS) <= set(document["paths"])


def test_the_schema_is_served_as_yaml_by_default(as_clinician):
    response = as_clinician.get(SCHEMA_URL)

    assert response.status_code == 200
    assert "openapi" in response["Content-Type"]
    assert response.content.startswith(b"openapi: 3.")


def test_the_schema_describes_token_authentication(as_clinician):
    schemes = schema(as_clinician)["components"]["securitySchemes"]

    assert any(s.get("type") == "apiKey" and s.get("name") == "Authorization"
               for s in schemes.values())


def test_the_schema_documents_the_write_methods(as_clinician):
    paths = schema(as_clinician)["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/patients/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/patients/{id}/"])
    assert {"get", "post"} <= set(paths["/api/v1/patients/{patient_id}/trials/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/patients/{patient_id}/trials/{id}/"])
    assert "put" not in paths["/api/v1/patients/{id}/"]
    assert set(paths["/api/v1/patients/{patient_id}/trd/"]) == {"get"}


def test_the_docs_page_is_served(as_clinician):
    response = as_clinician.get(DOCS_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger" in response.content.lower()


def test_an_outsider_gets_the_same_schema_with_no_practice_data(
    as_clinician, as_outsider, patient
):
    mine, theirs = schema(as_clinician), schema(as_outsider)

    assert theirs == mine
    assert patient.identifier not in json.dumps(theirs)


def response_schema(operation, status="200") -> dict:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_the_schema_documents_list_answers_as_arrays(as_clinician):
    paths = schema(as_clinician)["paths"]

    for path in ["/api/v1/patients/{patient_id}/trials/",
                 "/api/v1/patients/{patient_id}/therapies/",
                 "/api/v1/patients/{patient_id}/options/",
                 "/api/v1/drugs/"]:
        assert response_schema(paths[path]["get"])["type"] == "array", path


def test_the_schema_documents_201_for_creates(as_clinician):
    paths = schema(as_clinician)["paths"]

    for path in ["/api/v1/patients/", "/api/v1/patients/{patient_id}/trials/",
                 "/api/v1/patients/{patient_id}/therapies/"]:
        assert set(paths[path]["post"]["responses"]) == {"201"}, path


def test_the_schema_documents_the_as_of_parameter_and_drug_as_text(as_clinician):
    document = schema(as_clinician)

    parameters = document["paths"]["/api/v1/patients/{patient_id}/trd/"]["get"]["parameters"]
    as_of = next(p for p in parameters if p["name"] == "as_of")
    assert (as_of["in"], as_of["schema"]["format"]) == ("query", "date")
    assert document["components"]["schemas"]["Trial"]["properties"]["drug"]["type"] == "string"


def test_the_schema_generates_without_warnings(tmp_path, db):
    reset_generator_stats()

    call_command("spectacular", "--fail-on-warn", "--validate", "--file",
                 str(tmp_path / "schema.yml"))

    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3.")


def test_the_schema_and_docs_need_a_signed_in_member(api, db):
    anonymous = api()

    assert anonymous.get("/api/v1/schema/").status_code == 401
    assert anonymous.get("/api/v1/docs/").status_code == 401


def test_drug_doses_that_may_be_missing_are_documented_as_nullable(as_clinician):
    schema = as_clinician.get("/api/v1/schema/?format=json").json()
    drug = schema["components"]["schemas"]["Drug"]["properties"]

    assert drug["min_adequate_dose_mg"].get("nullable") is True
    assert drug["max_dose_mg"].get("nullable") is True
    doses = [d["min_adequate_dose_mg"] for d in as_clinician.get("/api/v1/drugs/").json()]
    assert None in doses  # agomelatine-like entries have none: the schema must allow it
