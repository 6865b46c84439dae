from django.db.models import Count, Q
from django.shortcuts import render

from trdtracker.validators import today

from . import access


@access.signed_in_view
def home(request):
    membership = access.membership_of(request.user)
    caps = access.capabilities_of(membership)
    summary = None
    if access.VIEW_CLINICAL in caps:
        summary = access.patients_visible_to(request.user).aggregate(
            patients=Count("id"), meeting_trd=Count("id", filter=Q(trd_meets_on__lte=today()))
        )
    return render(
        request,
        "home.html",
        {"membership": membership, "summary": summary, "caps": caps},
    )
