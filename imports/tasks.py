from celery import shared_task
from django.conf import settings

from . import services


@shared_task(
    acks_late=True,
    ignore_result=True,  # the job row is the result
    reject_on_worker_lost=True,
    soft_time_limit=settings.EXPORT_TIME_LIMIT,
    time_limit=settings.EXPORT_TIME_LIMIT + 60,
)
def import_preview_task(job_id: int, attempt: int | None = None) -> str | None:
    """Read an uploaded file and store its preview (nothing else is saved)."""
    job = services.import_preview(job_id, attempt)
    return job.status if job else None


@shared_task(
    acks_late=True,
    ignore_result=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.EXPORT_TIME_LIMIT,
    time_limit=settings.EXPORT_TIME_LIMIT + 60,
)
def import_confirm_task(job_id: int, attempt: int | None = None) -> str | None:
    """Create a confirmed import's records, all in one transaction."""
    job = services.import_confirm(job_id, attempt)
    return job.status if job else None
