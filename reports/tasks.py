from celery import shared_task
from django.conf import settings

from accounts.models import Practice

from . import services
from .dashboard import recompute


@shared_task(
    acks_late=True,
    ignore_result=True,  # the job row is the result; publishing never touches the result store
    reject_on_worker_lost=True,
    soft_time_limit=settings.EXPORT_TIME_LIMIT,
    time_limit=settings.EXPORT_TIME_LIMIT + 60,
)
def export_run_task(job_id: int, attempt: int | None = None) -> str | None:
    """Run one attempt of an export job; a re-delivered message starts that attempt over."""
    job = services.export_run(job_id, attempt)
    return job.status if job else None


@shared_task
def export_expire_task() -> int:
    """Delete export files past their expiry date."""
    return services.exports_expire()


@shared_task
def export_sweep_task() -> dict:
    """Re-queue or fail export jobs whose worker died (stale heartbeat)."""
    return services.exports_sweep()


@shared_task(ignore_result=True)
def dashboard_recompute_task(practice_id: int) -> None:
    """Recompute one practice's dashboard figures into the cache (queued after writes)."""
    recompute(practice_id)


@shared_task(ignore_result=True)
def dashboard_recompute_all_task() -> int:
    """Recompute every practice's dashboard figures (the beat, every few minutes)."""
    practice_ids = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
    for practice_id in practice_ids:
        recompute(practice_id)
    return len(practice_ids)
