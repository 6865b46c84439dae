from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import access
from patients.scope import record_list_read

from . import services
from .selectors import get_notification_for_user, notifications_visible_to

PAGE_SIZE = 25


@access.practice_view
def notification_list(request):
    notifications = notifications_visible_to(request.user)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    record_list_read(
        request, {n.patient_id: n.patient for n in page}.values(), {"page": "notifications"}
    )
    return render(
        request,
        "notifications/notification_list.html",
        {"page": page, "unread": notifications.unread().exists()},
    )


@access.practice_view
@require_POST
def notification_read(request, pk):
    services.notification_mark_read(notification=get_notification_for_user(request.user, pk))
    return redirect("notifications:notification-list")


@access.practice_view
@require_POST
def notification_read_all(request):
    count = services.notifications_mark_all_read(
        notifications=notifications_visible_to(request.user)
    )
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("notifications:notification-list")
