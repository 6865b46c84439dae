"""Reads: a user's own notifications, about the patients they may see."""

from django.http import Http404

from accounts import access
from patients.scope import patients_visible_to

from .models import Notification


def notifications_visible_to(user):
    """The user's own notifications about the practice's patients that are not deleted (403
    for a role without the clinical-read right)."""
    patients = patients_visible_to(user, access.VIEW_CLINICAL)
    return Notification.objects.filter(recipient=user, patient__in=patients).select_related(
        "patient", "trial__drug"
    )


def get_notification_for_user(user, pk) -> Notification:
    """The user's own notification `pk`; 404 for anyone else's."""
    notifications = notifications_visible_to(user)
    try:
        return notifications.get(pk=access.checked_id(pk))
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None


def unread_count(user) -> int:
    """The navigation's badge: one COUNT query."""
    return (
        Notification.objects.unread()
        .filter(recipient=user, patient__deleted_at__isnull=True)
        .count()
    )
