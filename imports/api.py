"""POST /api/v1/imports/ (multipart upload), GET /api/v1/imports/{id}/ and
POST /api/v1/imports/{id}/confirm/: the Import page's service over the API."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from api.schema import error
from patients.scope import record_list_read

from . import services
from .forms import ImportForm
from .models import ImportKind
from .selectors import get_import_for_scope, present_patients


class ImportAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.IntegerField()


class ImportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    status = serializers.CharField()
    progress = serializers.IntegerField()
    sha256 = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
    preview = serializers.DictField(
        help_text="`counts`, and the rows: `patients`, `trials`, `scores` (each with `status` "
        "`create` or `present`) and `unmatched` (`row`, `reason`)."
    )
    result = serializers.DictField(help_text="What the confirm created, once done.")


UPLOAD = {
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "A Trials CSV or a FHIR R4 bundle (JSON), at most 20 MB.",
            },
            "kind": {
                "type": "string",
                "enum": [k.value for k in ImportKind],
                "description": "The file's format; worked out from the file if left out.",
            },
        },
        "required": ["file"],
    },
}


def job_data(job) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "progress": job.live_progress,
        "sha256": job.sha256,
        "error": job.error,
        "preview": job.preview,
        "result": job.result,
    }


class ImportList(APIView):
    access_guard = access.PRACTICE
    http_method_names = ["post", "options"]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=UPLOAD,
        responses={
            202: ImportAcceptedSerializer,
            503: error("The import queue is not reachable: nothing was queued; try again later."),
        },
    )
    def post(self, request):
        scope = access.open_practice_scope(request, access.EDIT_CLINICAL)
        if "kind" in request.data and request.data["kind"] not in ImportKind.values:
            raise ValidationError(
                {"kind": [f"Use one of {', '.join(ImportKind.values)}, or leave it out."]}
            )
        form = ImportForm(request.data, request.FILES)
        if not form.is_valid():
            raise ValidationError(form.errors)
        try:
            job = services.import_request(
                scope=scope,
                data=form.read(),
                filename=form.cleaned_data["file"].name,
                kind=form.cleaned_data["kind"] or None,
            )
        except services.ImportQueueUnavailable as problem:
            return Response({"detail": str(problem)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(
            {"id": job.pk, "status": job.status, "progress": job.progress},
            status=status.HTTP_202_ACCEPTED,
        )


class ImportDetail(APIView):
    access_guard = access.PRACTICE
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses=ImportJobSerializer)
    def get(self, request, pk):
        scope = access.open_practice_scope(request, access.EDIT_CLINICAL)
        job = get_import_for_scope(scope, pk)
        record_list_read(request, present_patients(scope, job), {"api": "import"})
        return Response(job_data(job))


class ImportConfirm(APIView):
    access_guard = access.PRACTICE
    http_method_names = ["post", "options"]

    @extend_schema(
        request=None,
        responses={
            202: ImportAcceptedSerializer,
            409: error("The import is not ready to confirm (still previewing, failed, or done)."),
            503: error("The import queue is not reachable: nothing was queued; try again later."),
        },
    )
    def post(self, request, pk):
        scope = access.open_practice_scope(request, access.EDIT_CLINICAL)
        job = get_import_for_scope(scope, pk)
        try:
            job = services.import_confirm_request(job=job, user=scope.user, ip=scope.ip)
        except services.NotReady as problem:
            return Response({"detail": str(problem)}, status=status.HTTP_409_CONFLICT)
        except services.ImportQueueUnavailable as problem:
            return Response({"detail": str(problem)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(
            {"id": job.pk, "status": job.status, "progress": job.progress},
            status=status.HTTP_202_ACCEPTED,
        )
