from celery import shared_task

from .services import refresh_practice_trd_summaries


@shared_task
def refresh_trd_summaries_task(practice_id: int | None = None) -> dict:
    """Re-evaluate stored TRD summaries that the passing days may have changed."""
    return refresh_practice_trd_summaries(practice_id)
