"""Schemathesis over /api/v1/schema/: every answer the API gives is documented, with its body.

Each operation gets schema-valid requests and (where it takes a query or a body) schema-breaking
ones, as a signed-in clinician with the patient id pinned to a real patient, so the requests
reach the handlers and not only the 404. Checked: no 5xx, every status code and content type
documented, every body matching its schema, invalid requests refused. Not checked: that every
schema-valid request is accepted, because some rules are not expressible in JSON Schema (an end
date after its start, a date not in the future, a known drug name, a PHQ-9 total matching its
items); those answer 400 with field messages, which the schema documents.

The examples are derandomized (the same every run), so a red CI always means a real finding;
wider random-seed runs (250 examples per operation) are run by hand when the API changes.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from knox.models import AuthToken
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.factories import ScaleScoreFactory, TherapyFactory, TrialFactory

EXAMPLES_PER_OPERATION = 60
# A multipart body cannot carry most of the invalid values the negative mode generates (a null
# or an empty list is dropped from the form), so a request it calls invalid can arrive valid and
# be accepted. These operations still get the other checks (no 5xx, documented answers).
MULTIPART_OPERATIONS = {("POST", "/api/v1/imports/")}


@pytest.fixture
def token(clinician):
    return AuthToken.objects.create(user=clinician)[1]


@pytest.fixture
def application():
    """The real WSGI application, minus its end-of-request connection closing (as in Django's
    test client), so the requests run inside the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_its_schema_says(application, token, patient, mode):
    (
        TrialFactory(patient=patient),
        TherapyFactory(patient=patient),
        ScaleScoreFactory(patient=patient),
    )
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", application, headers=headers
    )
    failures, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if mode == GenerationMode.NEGATIVE and not (operation.query or operation.body):
            continue  # nothing of the request to get wrong but the pinned patient id
        fixed = {"patient_id": patient.pk} if "{patient_id}" in operation.path else None
        excluded = [positive_data_acceptance]
        if (operation.method.upper(), operation.path) in MULTIPART_OPERATIONS:
            excluded.append(negative_data_rejection)

        @given(operation.as_strategy(mode, path_parameters=fixed))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same examples every run: CI is reproducible
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers=headers, excluded_checks=excluded)  # noqa: B023 - run at once

        tried += 1
        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert tried >= (20 if mode == GenerationMode.POSITIVE else 10)
    assert not failures, "\n\n".join(failures)
