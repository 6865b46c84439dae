"""Export jobs over the API: the same form, access rules and service as the Exports page."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import access
from audit.services import client_ip
from reports import services
from reports.forms import ExportForm
from reports.views import file_response, job_status


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


class ExportList(APIView):
    """POST {"kind", ...options} (or {"kind", "options": {...}}) → 202 with the job's id."""

    access_guard = access.PRACTICE
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "export_request"
    http_method_names = ["post", "options"]

    @extend_schema(request=None, responses=None)
    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Send a JSON object."]})
        options = request.data.get("options")
        if options is not None and not isinstance(options, dict):
            raise ValidationError({"options": ["Must be an object."]})
        data = dict(options or {})
        data.update({k: v for k, v in request.data.items() if k != "options"})
        data = form_values(data)
        access.require_export_kind(request.user, data.get("kind"))
        form = ExportForm(data)
        if not form.is_valid():
            raise ValidationError(form.errors)
        try:
            job = services.export_request(
                user=request.user, kind=form.cleaned_data["kind"], options=form.options(),
                ip=client_ip(request),
            )
        except services.ExportQueueUnavailable as error:
            return Response({"detail": str(error)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"id": job.pk, "status": job.status, "progress": job.progress},
                        status=status.HTTP_202_ACCEPTED)


class ExportDetail(APIView):
    access_guard = access.PRACTICE

    http_method_names = ["get", "head", "options"]

    @extend_schema(responses=None)
    def get(self, request, pk):
        job = access.get_job_for_user(request.user, pk)
        data = _status(request, job)
        data.pop("file_deleted")
        return Response(data)


class ExportDownload(APIView):
    access_guard = access.PRACTICE

    http_method_names = ["get", "head", "options"]

    @extend_schema(responses=None)
    def get(self, request, pk):
        return file_response(request, access.get_job_for_user(request.user, pk))
