from django.db.models import Count, Max, Q
from django.shortcuts import render

from accounts import access
from patients.models import Patient
from patients.scope import patient_view

from .forms import AuditFilterForm
from .models import Action
from .paging import CURSOR_PARAMETER, keyset_page


def record_numbers(events) -> dict[int, str]:
    """Record numbers of the patients the events name (removed patients too), in one query."""
    ids = {event.patient_id for event in events if event.patient_id}
    return dict(Patient.objects.filter(pk__in=ids).values_list("pk", "identifier"))


@access.practice_view
def event_list(request):
    events = access.events_visible_to(request.user)
    form = AuditFilterForm(request.GET or None)
    filters = {}
    if form.is_bound:
        events = (
            form.filter(events, request.user.membership.practice_id)
            if form.is_valid()
            else events.none()
        )
        filters = {name: request.GET[name] for name in form.fields if request.GET.get(name)}
    page = keyset_page(events, request.GET.get(CURSOR_PARAMETER), filters)
    return render(
        request,
        "audit/event_list.html",
        {"page": page, "form": form, "identifiers": record_numbers(page)},
    )


@patient_view(access.VIEW_AUDIT, kwarg="pk", page="access-report")
def patient_access_report(request, scope):
    """Who viewed, changed or exported this patient's data, and when (auditors, admins)."""
    patient = scope.patient
    events = access.events_visible_to(request.user).about_patients([patient.pk])
    people = (
        events.values("actor")
        .annotate(
            views=Count("id", filter=Q(action=Action.VIEW)),
            changes=Count("id", filter=Q(action__in=[Action.CREATE, Action.UPDATE, Action.DELETE])),
            exports=Count("id", filter=Q(action=Action.EXPORT)),
            last=Max("timestamp"),
        )
        .order_by("-last")
    )
    page = keyset_page(events, request.GET.get(CURSOR_PARAMETER))
    return render(
        request, "audit/patient_access.html", {"patient": patient, "people": people, "page": page}
    )
