"""Export jobs: who may ask for which, running one from scratch, and expiring old files."""

import logging
import os
import tempfile

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts import access
from audit.models import Action
from audit.services import record_event

from . import exporters
from .models import PATIENT_KINDS, RETENTION, ExportJob, ExportKind, ExportStatus

logger = logging.getLogger(__name__)


def jobs_visible_to(user):
    """The practice's jobs for exporters (auditors, admins); a clinician's own jobs only."""
    membership = access.membership_of(user)
    if access.can(user, access.RUN_EXPORTS):
        return ExportJob.objects.filter(practice_id=membership.practice_id)
    access.require(user, access.VIEW_CLINICAL)
    return ExportJob.objects.filter(practice_id=membership.practice_id, created_by=user)


def get_job_for_user(user, pk) -> ExportJob:
    """The job `pk` if the user may see it; 404 for any other (another practice included)."""
    try:
        return jobs_visible_to(user).get(pk=access.checked_id(pk))
    except ExportJob.DoesNotExist:
        raise Http404("No such export.") from None


def authorize_export(user, kind: str, patient_id: int | None):
    """The membership (and patient) for this export; 403 for a role without it, 404 for a
    patient of another practice. Clinicians may only export one patient at a time."""
    exporter = access.can(user, access.RUN_EXPORTS)
    if not exporter:
        if kind not in PATIENT_KINDS or not patient_id:
            raise PermissionDenied
        membership = access.require(user, access.VIEW_CLINICAL)
    else:
        membership = access.require(user, access.RUN_EXPORTS)
        if kind == ExportKind.AUDIT_CSV:
            access.require(user, access.VIEW_AUDIT)
    patient = None
    if patient_id and kind in PATIENT_KINDS:
        capability = access.RUN_EXPORTS if exporter else access.VIEW_CLINICAL
        patient = access.get_patient_for_user(user, patient_id, capability)
    return membership, patient


@transaction.atomic
def export_request(*, user, kind: str, options: dict, ip=None) -> ExportJob:
    """Create the job, audit the request, and enqueue it once the transaction commits."""
    from .tasks import export_run_task

    membership, patient = authorize_export(user, kind, options.get("patient"))
    job = ExportJob.objects.create(
        practice_id=membership.practice_id, created_by=user, kind=kind, options=options
    )
    record_event(
        actor=user, practice_id=membership.practice_id, action=Action.EXPORT, obj=job,
        patient_id=patient.pk if patient else None, ip=ip,
        details={"event": "requested", "kind": kind, "id": job.pk},
    )
    transaction.on_commit(lambda: export_run_task.delay(job.id))
    return job


def record_download(*, user, job: ExportJob, ip=None) -> None:
    record_event(
        actor=user, practice_id=job.practice_id, action=Action.EXPORT, obj=job,
        patient_id=job.patient_id if job.kind in PATIENT_KINDS else None, ip=ip,
        details={"event": "downloaded", "kind": job.kind, "id": job.pk},
    )


def _set_progress(job_id: int, done: int, total: int) -> None:
    """Store progress after each chunk; 100 is kept for the finished file."""
    value = min(99, done * 100 // total) if total else 99
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(progress=value)


def export_run(job_id: int) -> ExportJob | None:
    """Run the job from scratch; the file reaches storage only once it is complete.

    A re-delivered task (the worker died mid-run) finds the job "running" and starts over.
    """
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (ExportStatus.DONE, ExportStatus.FAILED):
        return job
    if job.file:  # left by an attempt that died between saving the file and marking it done
        job.file.delete(save=False)
    job.status, job.progress, job.error = ExportStatus.RUNNING, 0, ""
    job.save(update_fields=["status", "progress", "error", "file"])

    write, extension = exporters.WRITERS[ExportKind(job.kind)]
    handle, path = tempfile.mkstemp(suffix=f".{extension}", prefix="export-")
    os.close(handle)
    try:
        write(job, path, lambda done, total: _set_progress(job.pk, done, total))
        with open(path, "rb") as complete:
            name = f"{job.kind}-{job.pk}-{timezone.now():%Y%m%d-%H%M%S}.{extension}"
            job.file.save(name, File(complete), save=False)
        now = timezone.now()
        job.status, job.progress = ExportStatus.DONE, 100
        job.finished_at, job.expires_at = now, now + RETENTION
        job.save(update_fields=["status", "progress", "file", "finished_at", "expires_at"])
    except Exception as error:
        logger.exception("Export %s (%s) failed", job.pk, job.kind)
        _fail(job, error)
    finally:
        os.unlink(path)
    return job


def _fail(job: ExportJob, error: Exception) -> None:
    if job.file:
        job.file.delete(save=False)
    if isinstance(error, exporters.ExportError):
        message = str(error)
    else:
        message = f"The export failed ({type(error).__name__}: {error})."
    job.status, job.error, job.finished_at = ExportStatus.FAILED, message, timezone.now()
    job.save(update_fields=["status", "error", "file", "finished_at"])


def exports_expire(now=None) -> int:
    """Delete the files of finished jobs past their expiry; the jobs stay, flagged."""
    now = now or timezone.now()
    expired = ExportJob.objects.filter(
        status=ExportStatus.DONE, file_deleted=False, expires_at__lte=now
    )
    count = 0
    for job in expired.iterator(chunk_size=500):
        if job.file:
            job.file.delete(save=False)
        job.file_deleted = True
        job.save(update_fields=["file", "file_deleted"])
        count += 1
    return count
