from celery import shared_task

from .services import repair_trd_summaries


@shared_task
def repair_trd_summaries_task(practice_id: int | None = None) -> dict:
    """The nightly check of the stored TRD summaries: correct (and audit) any drift, and record
    the TRD status changes that time alone made (patients.trd_history)."""
    return repair_trd_summaries(practice_id)
