"""The OpenAPI description, true to the API: every operation lists the error answers it can give.

drf-spectacular documents the success answers; `ApiSchema` adds the errors that follow from
how a view is built (its front door, body, path, query, throttles, If-Match), so a new view is
documented by the same rules as the old ones. Answers only one view gives (the export queue's
503, an expired file's 410) are declared on that view with `extend_schema`.
"""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.choices import CallableChoiceIterator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from accounts import access


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for people.")


FIELD_ERRORS = OpenApiResponse(
    response={
        "type": "object",
        "description": "Field name (or `non_field_errors`) → messages; nothing was saved.",
        "additionalProperties": {
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
            ]
        },
    },
    description="The request was refused: see the messages (nothing was saved).",
)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


UNAUTHENTICATED = error("No valid token or session (or the token has expired).")
FORBIDDEN = error("Signed in, but not allowed to do this (role, practice or 2FA).")
NOT_FOUND = error("No such record in your practice (or no such page of results).")
STALE = error("The record changed since the `If-Match` version: fetch it again.")
UNSUPPORTED = error("The body is not JSON.")
THROTTLED = error("Too many requests: wait the `Retry-After` seconds.")

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The `ETag` you read (e.g. `"3"`): the change is refused with 412 when the '
    "record has changed since.",
)

BODY_METHODS = {"POST", "PUT", "PATCH"}
# A list's page parameter: an invalid page number or cursor is answered 404, not 400.
PAGE_PARAMETERS = {"page", "cursor"}


class ApiSchema(AutoSchema):
    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_conditional_write():
            parameters.append(IF_MATCH)
        return parameters

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            responses = operation["responses"]
            for code, response in self._error_responses(operation).items():
                if str(code) not in responses:
                    responses[str(code)] = self._get_response_for_code(response, str(code))
        return operation

    def _is_conditional_write(self) -> bool:
        return self.method in {"PATCH", "DELETE"} and getattr(self.view, "versioned", False)

    def _error_responses(self, operation: dict) -> dict:
        errors = {}
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        takes_body = self.method in BODY_METHODS or "requestBody" in operation
        if takes_body or query - PAGE_PARAMETERS:
            errors[400] = FIELD_ERRORS
        if getattr(self.view, "access_guard", None) != access.PUBLIC:
            errors[401] = UNAUTHENTICATED
            errors[403] = FORBIDDEN
        if "{" in self.path or query & PAGE_PARAMETERS:
            errors[404] = NOT_FOUND
        if self._is_conditional_write():
            errors[412] = STALE
        if takes_body:
            errors[415] = UNSUPPORTED
        if getattr(self.view, "throttle_classes", None):
            errors[429] = THROTTLED
        return errors


FORM_FIELD_TYPES = {
    forms.BooleanField: {"type": "boolean"},
    forms.DateField: {"type": "string", "format": "date"},
    forms.IntegerField: {"type": "integer"},
}


def form_schema(form: forms.Form, description: str = "") -> dict:
    """A JSON-Schema object for a Django form, so a view that validates with a form (the
    export request) is documented by that form and not by a second copy of its rules."""
    properties = {}
    for name, field in form.fields.items():
        schema = next(
            (dict(t) for kind, t in FORM_FIELD_TYPES.items() if isinstance(field, kind)),
            {"type": "string"},
        )
        # Choices read from the database at validation time (the drug classes) are left open:
        # the schema is generated without touching the data (the deploy check has none).
        if isinstance(field, forms.ChoiceField) and not isinstance(
            field.choices, CallableChoiceIterator
        ):
            schema["enum"] = [value for value, _ in field.choices if value != ""]
        if getattr(field, "max_length", None):
            schema["maxLength"] = field.max_length
        if getattr(field, "min_value", None) is not None:
            schema["minimum"] = field.min_value
        if getattr(field, "max_value", None) is not None:
            schema["maximum"] = field.max_value
        bounds = [
            v for v in field.validators if isinstance(v, MinValueValidator | MaxValueValidator)
        ]
        if isinstance(field, forms.DateField) and bounds:
            schema["description"] = "From {} to {}.".format(*sorted(v.limit_value for v in bounds))
        if field.help_text:
            schema["description"] = " ".join([str(field.help_text), schema.get("description", "")])
        properties[name] = schema
    required = [name for name, field in form.fields.items() if field.required]
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
    }


def form_parameters(form: forms.Form) -> list[OpenApiParameter]:
    """The form's fields as documented query parameters (the audit filters)."""
    return [
        OpenApiParameter(
            name,
            {k: v for k, v in schema.items() if k != "description"},
            description=schema.get("description", ""),
        )
        for name, schema in form_schema(form)["properties"].items()
    ]
