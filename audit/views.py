from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts import access

from .models import AuditEvent


@login_required
def event_list(request):
    membership = access.require(request.user, access.VIEW_AUDIT)
    events = AuditEvent.objects.filter(practice_id=membership.practice_id)
    patient = request.GET.get("patient", "").strip()
    if patient.isdigit():
        events = events.filter(patient_id=int(patient))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/event_list.html", {"page": page, "patient": patient})
