from django.utils.functional import SimpleLazyObject

from accounts import access

from .selectors import unread_count


def notifications(request):
    """The unread count for the navigation's badge, for members who treat. Lazy: the COUNT
    runs only when a page shows the badge."""
    user = getattr(request, "user", None)
    if not access.can(user, access.EDIT_CLINICAL):
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
