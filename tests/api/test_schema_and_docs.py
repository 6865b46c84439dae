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

    assert any(
        s.get("type") == "apiKey" and s.get("name") == "Authorization" for s in schemes.values()
    )


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


def test_an_outsider_gets_the_same_schema_with_no_practice_data(as_clinician, as_outsider, patient):
    mine, theirs = schema(as_clinician), schema(as_outsider)

    assert theirs == mine
    assert patient.identifier not in json.dumps(theirs)


def response_schema(operation, status="200") -> dict:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_the_schema_documents_list_answers_as_arrays(as_clinician):
    paths = schema(as_clinician)["paths"]

    for path in [
        "/api/v1/patients/{patient_id}/trials/",
        "/api/v1/patients/{patient_id}/therapies/",
        "/api/v1/patients/{patient_id}/options/",
        "/api/v1/drugs/",
    ]:
        assert response_schema(paths[path]["get"])["type"] == "array", path


def test_the_schema_documents_201_for_creates(as_clinician):
    paths = schema(as_clinician)["paths"]

    for path in [
        "/api/v1/patients/",
        "/api/v1/patients/{patient_id}/trials/",
        "/api/v1/patients/{patient_id}/therapies/",
        "/api/v1/patients/{patient_id}/scores/",
    ]:
        responses = set(paths[path]["post"]["responses"])
        assert {code for code in responses if code.startswith("2")} == {"201"}, path
        assert {"400", "401", "403", "415"} <= responses, path


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_signed_in_operation_documents_401_and_403(as_clinician):
    for path, method, operation in operations(schema(as_clinician)):
        codes = set(operation["responses"])
        if path == "/api/v1/auth/token/":
            assert not {"401", "403"} & codes  # the public front door
        else:
            assert {"401", "403"} <= codes, (method, path)


def test_operations_document_400_404_and_429_where_they_can_happen(as_clinician):
    document = schema(as_clinician)
    for path, method, operation in operations(document):
        codes = set(operation["responses"])
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if method in {"post", "patch"} or query - {"page", "cursor"}:
            assert "400" in codes, (method, path)
        if "{" in path or query & {"page", "cursor"}:
            assert "404" in codes, (method, path)
    paths = document["paths"]
    assert "429" in paths["/api/v1/auth/token/"]["post"]["responses"]
    assert "429" in paths["/api/v1/exports/"]["post"]["responses"]
    assert "503" in paths["/api/v1/exports/"]["post"]["responses"]
    assert "410" in paths["/api/v1/exports/{id}/download/"]["get"]["responses"]
    assert "400" in paths["/api/v1/patients/{patient_id}/trd/"]["get"]["responses"]
    assert "400" not in paths["/api/v1/drugs/"]["get"]["responses"]


def test_error_answers_are_documented_with_their_bodies(as_clinician):
    document = schema(as_clinician)
    operation = document["paths"]["/api/v1/patients/{id}/"]["patch"]

    assert response_schema(operation, "404")["$ref"].endswith("/Error")
    assert response_schema(operation, "400")["additionalProperties"]
    assert document["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_versioned_writes_document_if_match_and_412(as_clinician):
    paths = schema(as_clinician)["paths"]

    for path in [
        "/api/v1/patients/{id}/",
        "/api/v1/patients/{patient_id}/trials/{id}/",
        "/api/v1/patients/{patient_id}/therapies/{id}/",
    ]:
        for method in ("patch", "delete"):
            operation = paths[path][method]
            assert "412" in operation["responses"], (method, path)
            assert any(
                p["name"] == "If-Match" and p["in"] == "header" for p in operation["parameters"]
            ), (method, path)
        assert "412" not in paths[path]["get"]["responses"]


# The one file upload, documented as the multipart form it is.
MULTIPART_BODIES = {"/api/v1/imports/"}


def test_request_bodies_are_documented_as_json(as_clinician):
    for path, _method, operation in operations(schema(as_clinician)):
        if "requestBody" in operation:
            expected = "multipart/form-data" if path in MULTIPART_BODIES else "application/json"
            assert set(operation["requestBody"]["content"]) == {expected}, path


def test_the_import_upload_documents_its_file_field(as_clinician):
    operation = schema(as_clinician)["paths"]["/api/v1/imports/"]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]

    assert body["required"] == ["file"]
    assert body["properties"]["file"]["format"] == "binary"
    assert {"202", "400", "403"} <= set(operation["responses"])


def test_query_parameters_state_their_bounds(as_clinician):
    document = schema(as_clinician)
    audit = {p["name"]: p for p in document["paths"]["/api/v1/audit-events/"]["get"]["parameters"]}
    patients = document["paths"]["/api/v1/patients/"]["get"]["parameters"]

    assert audit["patient"]["schema"]["minimum"] == 1
    assert audit["identifier"]["schema"]["maxLength"] == 64
    assert audit["since"]["schema"]["format"] == "date"
    assert "1900-01-01" in audit["since"]["description"]
    assert "2999-12-31" in audit["until"]["description"]
    assert set(audit["action"]["schema"]["enum"]) >= {"view", "create"}
    assert next(p for p in patients if p["name"] == "page")["schema"]["minimum"] == 1


def test_the_audit_list_is_documented_as_cursor_pages_without_a_count(as_clinician):
    document = schema(as_clinician)
    operation = document["paths"]["/api/v1/audit-events/"]["get"]
    query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    page = document["components"]["schemas"][
        response_schema(operation, "200")["$ref"].rsplit("/", 1)[1]
    ]

    assert "page" not in query
    assert query["cursor"]["schema"] == {"type": "string", "minLength": 1}
    assert "404" in operation["responses"]
    assert response_schema(operation, "404")["$ref"].endswith("/Error")
    assert set(page["properties"]) == set(page["required"]) == {"next", "previous", "results"}


def test_the_export_request_is_documented_from_its_form(as_clinician):
    operation = schema(as_clinician)["paths"]["/api/v1/exports/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]

    assert "trials_csv" in body["properties"]["kind"]["enum"]
    assert body["properties"]["patient"]["minimum"] == 1
    assert body["properties"]["options"]["type"] == "object"
    assert body["required"] == ["kind"]
    assert response_schema(operation, "202")["$ref"].endswith("/ExportAccepted")


def test_the_schema_documents_the_as_of_parameter_and_drug_as_text(as_clinician):
    document = schema(as_clinician)

    parameters = document["paths"]["/api/v1/patients/{patient_id}/trd/"]["get"]["parameters"]
    as_of = next(p for p in parameters if p["name"] == "as_of")
    assert (as_of["in"], as_of["schema"]["format"]) == ("query", "date")
    assert document["components"]["schemas"]["Trial"]["properties"]["drug"]["type"] == "string"


def test_the_schema_generates_without_warnings(tmp_path, db):
    reset_generator_stats()

    call_command(
        "spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml")
    )

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


def test_an_empty_page_number_is_an_invalid_page(as_clinician, patient):
    assert as_clinician.get("/api/v1/patients/?page=").status_code == 404
    assert as_clinician.get("/api/v1/patients/?page=0").status_code == 404
    assert as_clinician.get("/api/v1/patients/?page=1").status_code == 200


def test_an_empty_query_value_is_a_400_not_a_default(as_clinician, patient):
    trd = as_clinician.get(f"/api/v1/patients/{patient.pk}/trd/?as_of=")

    assert trd.status_code == 400
    assert list(trd.json()) == ["as_of"]


def test_an_auditor_gets_a_400_for_an_empty_audit_filter(as_auditor):
    response = as_auditor.get("/api/v1/audit-events/?since=&actor=x")

    assert response.status_code == 400
    assert list(response.json()) == ["since"]
