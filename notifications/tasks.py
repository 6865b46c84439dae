from datetime import date

from celery import shared_task
from django.conf import settings

from .services import create_notifications, send_digests


@shared_task
def create_notifications_task(today: str | None = None) -> dict:
    """The daily reminders (review due, no recent score) and, when NOTIFICATION_DIGEST is on,
    each clinician's e-mail digest. `today` (ISO date) is for tests and catching up."""
    day = date.fromisoformat(today) if today else None
    created = create_notifications(today=day)
    sent = send_digests(today=day) if settings.NOTIFICATION_DIGEST else 0
    return {"created": created, "digests": sent}
