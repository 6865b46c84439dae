from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts import access

from .forms import AuditFilterForm
from .models import AuditEvent

PAGE_SIZE = 50


def events_visible_to(user):
    """The audit events of the user's own practice (auditors and practice admins)."""
    membership = access.require(user, access.VIEW_AUDIT)
    return AuditEvent.objects.filter(practice_id=membership.practice_id)


@login_required
def event_list(request):
    events = events_visible_to(request.user)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound:
        events = form.filter(events) if form.is_valid() else events.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/event_list.html", {"page": page, "form": form})
