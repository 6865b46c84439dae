"""The Import page under Patients: upload a file, read its preview, confirm it."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import access
from patients.scope import record_list_read

from . import services
from .forms import ImportForm
from .models import ImportStatus
from .selectors import get_import_for_scope, imports_of, present_patients

WORKING = {ImportStatus.PENDING, ImportStatus.PREVIEWING, ImportStatus.CONFIRMING}


@access.practice_view
def import_list(request):
    scope = access.open_practice_scope(request, access.EDIT_CLINICAL)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_request(
                scope=scope,
                data=form.read(),
                filename=form.cleaned_data["file"].name,
                kind=form.cleaned_data["kind"] or None,
            )
        except services.ImportQueueUnavailable as error:
            messages.error(request, str(error))
            return redirect("imports:import-list")
        return redirect("imports:import-detail", pk=job.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "imports/import_list.html",
        {"form": form, "jobs": imports_of(scope)[:20]},
        status=status,
    )


@access.practice_view
def import_detail(request, pk):
    scope = access.open_practice_scope(request, access.EDIT_CLINICAL)
    job = get_import_for_scope(scope, pk)
    record_list_read(request, present_patients(scope, job), {"page": "import"})
    preview = job.preview or {}
    limit = services.PREVIEW_LIMIT
    tables = {
        name: preview.get(name, [])[:limit]
        for name in ("patients", "trials", "scores", "unmatched")
    }
    return render(
        request,
        "imports/import_detail.html",
        {
            "job": job,
            "counts": preview.get("counts"),
            "tables": tables,
            "limit": limit,
            "working": job.status in WORKING,
            "ready": job.status == ImportStatus.READY,
        },
    )


@access.practice_view
@require_POST
def import_confirm(request, pk):
    scope = access.open_practice_scope(request, access.EDIT_CLINICAL)
    job = get_import_for_scope(scope, pk)
    try:
        services.import_confirm_request(job=job, user=scope.user, ip=scope.ip)
    except services.NotReady as error:
        messages.error(request, str(error))
    except services.ImportQueueUnavailable as error:
        messages.error(request, str(error))
    return redirect("imports:import-detail", pk=job.pk)
