from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def export_run_task(job_id: int) -> str | None:
    """Run one export job; re-delivered after a lost worker, it starts the job over."""
    job = services.export_run(job_id)
    return job.status if job else None


@shared_task
def export_expire_task() -> int:
    """Delete export files past their expiry date."""
    return services.exports_expire()
