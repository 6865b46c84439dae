from django.core.paginator import Paginator
from django.shortcuts import render

from accounts import access

from .forms import AuditFilterForm

PAGE_SIZE = 50


@access.practice_view
def event_list(request):
    events = access.events_visible_to(request.user)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound:
        events = form.filter(events) if form.is_valid() else events.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/event_list.html", {"page": page, "form": form})
