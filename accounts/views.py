from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from core.dates import today
from patients.models import meets_trd_on
from patients.scope import patients_visible_to, record_list_read
from treatments.selectors import clinician_worklist

from . import access
from .middleware import IdleTimeoutMiddleware


@access.signed_in_view
def home(request):
    membership = access.membership_of(request.user)
    caps = access.capabilities_of(membership)
    summary = worklist = None
    if access.VIEW_CLINICAL in caps:
        summary = patients_visible_to(request.user).aggregate(
            patients=Count("id"), meeting_trd=Count("id", filter=meets_trd_on(today()))
        )
    # The worklist is for those who treat: an auditor reads records but has no worklist.
    if access.EDIT_CLINICAL in caps:
        worklist = clinician_worklist(patients_visible_to(request.user, access.EDIT_CLINICAL))
        record_list_read(request, worklist.patients, {"page": "home-worklist"})
    return render(
        request,
        "home.html",
        {"membership": membership, "summary": summary, "caps": caps, "worklist": worklist},
    )


@access.signed_in_view
@require_POST
def keep_alive(request):
    """ "Stay signed in" on the session-timeout warning (static/js/session_timeout.js).

    Requests restart the idle clock to the minute (accounts.middleware.IdleTimeoutMiddleware);
    this one restarts it to the second, as the answer says how many seconds the session now has.
    A session that has already ended is signed out there and never gets here.
    """
    response = HttpResponse(status=204)
    membership = access.membership_of(request.user)
    if membership is not None:
        IdleTimeoutMiddleware.restart(request)
        response["X-Session-Seconds-Left"] = str(membership.practice.session_idle_minutes * 60)
    return response
