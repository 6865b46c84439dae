from django.contrib import messages
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from audit.services import client_ip
from patients.scope import patient_view
from reports.access import export_kinds_for, get_job_for_user, jobs_visible_to, require_export_kind

from . import services
from .forms import ExportForm
from .models import ExportKind

LIST_SIZE = 50


@access.practice_view
def export_list(request):
    if request.method == "POST":
        if not access.can(request.user, access.RUN_EXPORTS):
            return HttpResponse(status=403)
        require_export_kind(request.user, request.POST.get("kind"))
        form = ExportForm(request.POST)
        if form.is_valid():
            return _start_export(request, form)
        return _render_list(request, form)
    return _render_list(request)


def _render_list(request, form=None, status=200):
    jobs = jobs_visible_to(request.user).select_related("created_by")
    can_export = access.can(request.user, access.RUN_EXPORTS)
    if form is None and can_export:
        form = ExportForm()
        allowed = export_kinds_for(request.user)
        form.fields["kind"].choices = [
            choice for choice in form.fields["kind"].choices if choice[0] in allowed
        ]
    return render(
        request,
        "reports/export_list.html",
        {"jobs": jobs[:LIST_SIZE], "form": form, "can_export": can_export},
        status=status,
    )


@patient_view(access.VIEW_CLINICAL, page="export-patient")
@require_POST
def export_patient(request, scope):
    """The patient page's button: one patient's discussion sheet (or FHIR bundle)."""
    patient = scope.patient
    kind = request.POST.get("kind", ExportKind.PATIENT_PDF)
    form = ExportForm({"kind": kind, "patient": patient.pk})
    if not form.is_valid() or not form.is_patient_kind:
        return HttpResponse("Only a patient PDF or FHIR bundle can be exported here.", status=400)
    return _start_export(request, form)


def _start_export(request, form):
    """Request the export and return to the Exports page, which shows how it went."""
    try:
        job = services.export_request(
            user=request.user,
            kind=form.cleaned_data["kind"],
            options=form.options(),
            ip=client_ip(request),
        )
    except services.ExportQueueUnavailable as error:
        messages.error(request, str(error))
        return _render_list(request, status=503)
    messages.success(request, f"Export #{job.pk} started: {job.get_kind_display()}.")
    return redirect("reports:export-list")


def job_status(job, download_url: str | None) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "error": job.error,
        "file_deleted": job.file_deleted,
        "download_url": download_url if job.downloadable else None,
    }


@access.practice_view
@require_GET
def export_status(request, pk):
    job = get_job_for_user(request.user, pk)
    return JsonResponse(job_status(job, reverse("reports:export-download", args=[job.pk])))


def file_response(request, job):
    """Stream the finished file and audit the download; 410 once the file has expired."""
    if job.file_deleted:
        return HttpResponse("This export has expired and its file was deleted.", status=410)
    if not job.downloadable:
        return HttpResponse("This export has no file (yet).", status=404)
    services.record_download(user=request.user, job=job, ip=client_ip(request))
    return FileResponse(
        job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1]
    )


@access.practice_view
@require_GET
def export_download(request, pk):
    return file_response(request, get_job_for_user(request.user, pk))
