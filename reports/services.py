"""Export jobs: who may ask for which, running one from scratch, and expiring old files."""

import hashlib
import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from audit.models import Action
from audit.services import record_event
from core.queue import task_named
from reports.access import authorize_export

from . import exporters
from .identity import ExportError
from .models import PATIENT_KINDS, RETENTION, ExportJob, ExportKind, ExportStatus

logger = logging.getLogger(__name__)


class ExportQueueUnavailable(Exception):
    """The task queue (Celery's broker) could not take the job; the job is marked failed."""


QUEUE_DOWN = (
    "The export queue is unreachable, so this export could not start. Nothing was exported; "
    "please try again in a few minutes."
)


@transaction.atomic
def export_request(*, user, kind: str, options: dict, ip=None) -> ExportJob:
    """Create the job, audit the request, and enqueue it once the transaction commits.

    Raises ExportQueueUnavailable (after the commit, with the job marked failed) when the
    broker cannot be reached.
    """
    membership, patient = authorize_export(user, kind, options.get("patient"))
    job = ExportJob.objects.create(
        practice_id=membership.practice_id, created_by=user, kind=kind, options=options
    )
    record_event(
        actor=user,
        practice_id=membership.practice_id,
        action=Action.EXPORT,
        obj=job,
        patient_id=patient.pk if patient else None,
        ip=ip,
        details={"event": "requested", "kind": kind, "id": job.pk},
    )
    transaction.on_commit(lambda: export_enqueue(job.pk))
    return job


def export_enqueue(job_id: int) -> None:
    """Start a new attempt of the job: mark it pending and send it to the workers."""
    job = ExportJob.objects.get(pk=job_id)
    attempt = job.attempts + 1
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportStatus.PENDING, progress=0, attempts=attempt, heartbeat_at=timezone.now()
    )
    try:
        task_named("reports.tasks.export_run_task").delay(job_id, attempt)
    except (KombuOperationalError, OSError) as error:
        logger.error("Export %s could not be queued: %s", job_id, error)
        ExportJob.objects.filter(pk=job_id, attempts=attempt).update(
            status=ExportStatus.FAILED, error=QUEUE_DOWN, finished_at=timezone.now()
        )
        raise ExportQueueUnavailable(QUEUE_DOWN) from error


def record_download(*, user, job: ExportJob, ip=None) -> None:
    record_event(
        actor=user,
        practice_id=job.practice_id,
        action=Action.EXPORT,
        obj=job,
        patient_id=job.patient_id if job.kind in PATIENT_KINDS else None,
        ip=ip,
        details={"event": "downloaded", "kind": job.kind, "id": job.pk},
    )


class Superseded(Exception):
    """This attempt no longer owns the job (the sweep re-queued or failed it): stop quietly."""


def _attempt(job_id: int, attempt: int):
    """The job's rows this attempt may still write: running, and still this attempt."""
    return ExportJob.objects.filter(pk=job_id, attempts=attempt, status=ExportStatus.RUNNING)


def _set_progress(job_id: int, attempt: int, done: int, total: int) -> None:
    """Store progress and the heartbeat after each chunk; 100 is kept for the finished file."""
    value = min(99, done * 100 // total) if total else 99
    if not _attempt(job_id, attempt).update(progress=value, heartbeat_at=timezone.now()):
        raise Superseded


def work_dir() -> Path:
    """The private folder (0700) where exports are written before they reach storage."""
    folder = Path(settings.EXPORT_WORK_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def remove_work_files(job_id: int) -> None:
    """Remove what any attempt of the job left in this host's work folder."""
    for leftover in work_dir().glob(f"job-{job_id}-*"):
        leftover.unlink(missing_ok=True)


def export_run(job_id: int, attempt: int | None = None) -> ExportJob | None:
    """Run one attempt of the job from scratch; the file reaches storage only once complete.

    `attempt` is the number the task was queued with; a message for an older attempt (or for a
    finished job) does nothing. Without it (a direct call) the job's current attempt runs.
    """
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (ExportStatus.DONE, ExportStatus.FAILED):
        return job
    attempt = job.attempts if attempt is None else attempt
    claimed = ExportJob.objects.filter(
        pk=job_id, attempts=attempt, status__in=(ExportStatus.PENDING, ExportStatus.RUNNING)
    ).update(status=ExportStatus.RUNNING, progress=0, error="", heartbeat_at=timezone.now())
    if not claimed:
        return job
    if job.file:  # left by an attempt that died between saving the file and marking it done
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job_id).update(file="")
    job.refresh_from_db()

    write, extension = exporters.WRITERS[ExportKind(job.kind)]
    job.patients_included = set()
    remove_work_files(job.pk)
    path = work_dir() / f"job-{job.pk}-{attempt}.{extension}"
    try:
        write(job, path, lambda done, total: _set_progress(job.pk, attempt, done, total))
        _finish(job, attempt, path, extension)
    except Superseded:
        logger.info("Export %s attempt %s was superseded; stopping", job.pk, attempt)
    except Exception as error:
        logger.exception("Export %s (%s) failed", job.pk, job.kind)
        _fail(job, attempt, error)
    finally:
        path.unlink(missing_ok=True)
    job.refresh_from_db()
    return job


HASH_CHUNK = 1024 * 1024


def file_sha256(handle) -> str:
    """The SHA-256 (hex) of an open binary file, read in chunks (exports can be large)."""
    digest = hashlib.sha256()
    while chunk := handle.read(HASH_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _finish(job: ExportJob, attempt: int, path: Path, extension: str) -> None:
    """Save the complete file to storage, then, in one transaction, record which patients it
    contains, record its fingerprint and mark the job done (a conditional update: a superseded
    attempt records nothing)."""
    with open(path, "rb") as complete:
        sha256 = file_sha256(complete)
        complete.seek(0)
        name = f"{job.kind}-{job.pk}-{timezone.now():%Y%m%d-%H%M%S}.{extension}"
        job.file.save(name, File(complete), save=False)
    now = timezone.now()
    try:
        with transaction.atomic():
            if job.patients_included:
                record_event(
                    actor=job.created_by,
                    practice_id=job.practice_id,
                    action=Action.EXPORT,
                    obj=job,
                    patients=job.patients_included,
                    details={
                        "event": "contents",
                        "kind": job.kind,
                        "id": job.pk,
                        "patients": len(job.patients_included),
                    },
                )
            record_event(
                actor=job.created_by,
                practice_id=job.practice_id,
                action=Action.EXPORT,
                obj=job,
                patient_id=job.patient_id if job.kind in PATIENT_KINDS else None,
                details={"event": "finished", "kind": job.kind, "id": job.pk, "sha256": sha256},
            )
            finished = _attempt(job.pk, attempt).update(
                status=ExportStatus.DONE,
                progress=100,
                file=job.file.name,
                finished_at=now,
                expires_at=now + RETENTION,
                heartbeat_at=now,
                sha256=sha256,
            )
            if not finished:
                raise Superseded
    except Superseded:
        job.file.delete(save=False)
        raise


def _fail(job: ExportJob, attempt: int, error: Exception) -> None:
    if job.file:
        job.file.delete(save=False)
    if isinstance(error, ExportError):
        message = str(error)
    else:
        message = f"The export failed ({type(error).__name__}: {error})."
    ExportJob.objects.filter(pk=job.pk, attempts=attempt).update(
        status=ExportStatus.FAILED, error=message, file="", finished_at=timezone.now()
    )


def exports_sweep(now=None) -> dict:
    """Re-queue (up to EXPORT_MAX_ATTEMPTS) or fail jobs whose worker is gone.

    A running job is stale when its heartbeat is older than EXPORT_STALE_SECONDS; a pending one
    when no worker took it within EXPORT_TIME_LIMIT (its message was lost, say to a Redis
    restart). Run by beat every minute.
    """
    now = now or timezone.now()
    waited_too_long = now - timedelta(seconds=settings.EXPORT_TIME_LIMIT)
    stale = ExportJob.objects.filter(
        Q(
            status=ExportStatus.RUNNING,
            heartbeat_at__lt=now - timedelta(seconds=settings.EXPORT_STALE_SECONDS),
        )
        | Q(status=ExportStatus.PENDING, heartbeat_at__lt=waited_too_long)
        # Committed, but the process died before it could enqueue the job.
        | Q(status=ExportStatus.PENDING, heartbeat_at=None, created_at__lt=waited_too_long)
    )
    counts = {"requeued": 0, "failed": 0}
    for job in stale.order_by("pk"):
        # Take the job from the attempt that lost it; a second sweep finds nothing to take.
        taken = ExportJob.objects.filter(
            pk=job.pk, status=job.status, attempts=job.attempts, heartbeat_at=job.heartbeat_at
        ).update(heartbeat_at=now)
        if not taken:
            continue
        remove_work_files(job.pk)
        if job.file:
            job.file.delete(save=False)
        if job.attempts < settings.EXPORT_MAX_ATTEMPTS:
            logger.warning("Export %s attempt %s lost its worker; re-queued", job.pk, job.attempts)
            try:
                export_enqueue(job.pk)
            except ExportQueueUnavailable:
                counts["failed"] += 1
                continue
            counts["requeued"] += 1
        else:
            ExportJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
                status=ExportStatus.FAILED,
                file="",
                finished_at=now,
                error=(
                    f"The export was stopped {job.attempts} times before it could finish "
                    "(its worker stopped responding). Please try again, or ask your "
                    "administrator to check the export workers."
                ),
            )
            counts["failed"] += 1
    return counts


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
