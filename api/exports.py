"""Export jobs over the API: the same form, access rules and service as the Exports page."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import access
from audit.services import client_ip
from reports import services
from reports.access import get_job_for_user, require_export_kind
from reports.forms import ExportForm
from reports.views import file_response, job_status

from . import serializers
from .schema import ApiSchema, error, form_schema

EXPORT_MEDIA_TYPES = [
    "text/csv",
    "application/pdf",
    "application/json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This export has expired and its file was deleted."


def _status(request, job) -> dict:
    url = reverse("api:export-download", args=[job.pk], request=request)
    return job_status(job, url)


def form_values(data: dict) -> dict:
    """JSON values as the (Django) export form reads them: text. A list or an object where one
    value belongs is a 400, not a crash inside the form."""
    values, errors = {}, {}
    for key, value in data.items():
        if isinstance(value, dict | list):
            errors[key] = ["Must be a single value."]
        elif isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif value is not None:
            values[key] = str(value)
    if errors:
        raise ValidationError(errors)
    return values


class ExportRequestSchema(ApiSchema):
    def get_request_serializer(self):
        body = form_schema(
            ExportForm(), "The export and its options, at the top level or inside `options`."
        )
        body["properties"]["options"] = {
            "type": "object",
            "description": "The same options, nested.",
        }
        return {"application/json": body}


class ExportList(APIView):
    """POST {"kind", ...options} (or {"kind", "options": {...}}) → 202 with the job's id."""

    access_guard = access.PRACTICE
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "export_request"
    http_method_names = ["post", "options"]
    schema = ExportRequestSchema()

    @extend_schema(
        responses={
            202: serializers.ExportAcceptedSerializer,
            404: error("The patient named in the options is not one of your practice's."),
            503: error("The export queue is not reachable: nothing was queued; try again later."),
        }
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Send a JSON object."]})
        options = request.data.get("options")
        if options is not None and not isinstance(options, dict):
            raise ValidationError({"options": ["Must be an object."]})
        data = dict(options or {})
        data.update({k: v for k, v in request.data.items() if k != "options"})
        data = form_values(data)
        require_export_kind(request.user, data.get("kind"))
        form = ExportForm(data)
        if not form.is_valid():
            raise ValidationError(form.errors)
        try:
            job = services.export_request(
                user=request.user,
                kind=form.cleaned_data["kind"],
                options=form.options(),
                ip=client_ip(request),
            )
        except services.ExportQueueUnavailable as error:
            return Response({"detail": str(error)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(
            {"id": job.pk, "status": job.status, "progress": job.progress},
            status=status.HTTP_202_ACCEPTED,
        )


class ExportDetail(APIView):
    access_guard = access.PRACTICE

    http_method_names = ["get", "head", "options"]

    @extend_schema(responses=serializers.ExportJobSerializer)
    def get(self, request, pk):
        job = get_job_for_user(request.user, pk)
        data = _status(request, job)
        data.pop("file_deleted")
        data["sha256"] = job.sha256 or None
        return Response(data)


class ExportDownload(APIView):
    access_guard = access.PRACTICE

    http_method_names = ["get", "head", "options"]

    @extend_schema(
        responses={
            (200, *EXPORT_MEDIA_TYPES): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment."
            ),
            410: error("The file has expired and was deleted."),
        }
    )
    def get(self, request, pk):
        job = get_job_for_user(request.user, pk)
        if job.file_deleted:
            raise Gone()
        if not job.downloadable:
            raise NotFound("This export has no file (yet).")
        return file_response(request, job)
