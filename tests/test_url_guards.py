"""Deny by default: every URL declares its front door, and every patient URL goes through the
patient scope (another practice's patient is 404; one read writes one `view` event)."""

from datetime import timedelta

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from rest_framework.views import APIView

from accounts import access
from accounts.models import Role
from api.permissions import DeclaredAccess
from audit.models import AuditEvent
from core.dates import today
from patients.models import Episode
from tests.factories import ScaleScoreFactory, TherapyFactory, TrialFactory, drug, member
from treatments.models import Discussion

# Pages anyone may open, and pages any signed-in user may open: a new entry here is a decision.
PUBLIC = {
    "login",
    "logout",
    "accounts:password-reset",
    "accounts:password-reset-done",
    "accounts:password-reset-confirm",
    "accounts:password-reset-complete",
    "accounts:invitation-accept",
    "api:token",
    "self-report",  # a patient's single-use PHQ-9 link (treatments.self_report)
}
SIGNED_IN = {
    "home",
    "accounts:password-change",
    "twofactor:setup",
    "twofactor:verify",
    "twofactor:recovery-codes",
    "accounts:keep-alive",
}


def walk(patterns, prefix="", namespaces=()):
    """(route, name, view, namespaces) for every URL pattern, included ones too."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            spaces = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), spaces)
        elif isinstance(entry, URLPattern):
            name = ":".join([*namespaces, entry.name]) if entry.name else None
            yield prefix + str(entry.pattern), name, entry.callback, namespaces


def guard_problem(name, view, namespaces) -> str | None:
    """Why this URL is not properly guarded, or None."""
    if namespaces[:1] == ("admin",):
        return None  # Django's admin site admits superusers only (trdtracker/urls.py)
    guard = access.declared_guard(view)
    if guard is None:
        return "declares no front door"
    if guard == access.PUBLIC and name not in PUBLIC:
        return "is public but not on the public list"
    if guard == access.SIGNED_IN and name not in SIGNED_IN:
        return "is open to any signed-in user but not on that list"
    api_view = getattr(view, "cls", None)
    if (
        api_view is not None
        and guard != access.PUBLIC
        and not any(
            issubclass(permission, DeclaredAccess) for permission in api_view.permission_classes
        )
    ):
        return "is an API view that replaced the default DeclaredAccess permission"
    return None


def unguarded(patterns) -> list[str]:
    return [
        f"{route} ({name}) {problem}"
        for route, name, view, namespaces in walk(patterns)
        if (problem := guard_problem(name, view, namespaces))
    ]


def test_every_url_declares_its_front_door():
    assert unguarded(get_resolver().url_patterns) == []


# A URL configuration with the mistakes the walker and the middleware must catch.
def forgotten_view(request):
    return HttpResponse("patient records")


class ForgottenApiView(APIView):
    def get(self, request):
        return HttpResponse("patient records")


class OpenedApiView(APIView):
    access_guard = access.PRACTICE
    permission_classes = []

    def get(self, request):
        return HttpResponse("patient records")


urlpatterns = [
    path("forgotten/", forgotten_view, name="forgotten"),
    path("forgotten-api/", ForgottenApiView.as_view(), name="forgotten-api"),
    path("opened-api/", OpenedApiView.as_view(), name="opened-api"),
    path("self-declared-public/", access.public_view(forgotten_view), name="sneaky"),
    path("", include("trdtracker.urls")),  # the real site around them (its pages link home)
]


def test_the_walker_flags_a_new_unguarded_url():
    assert unguarded(urlpatterns) == [
        "forgotten/ (forgotten) declares no front door",
        "forgotten-api/ (forgotten-api) declares no front door",
        "opened-api/ (opened-api) is an API view that replaced the default DeclaredAccess "
        "permission",
        "self-declared-public/ (sneaky) is public but not on the public list",
    ]


@override_settings(ROOT_URLCONF=__name__)
def test_an_undeclared_view_is_refused_at_run_time(login, clinician):
    client = login(clinician)

    assert client.get("/forgotten/").status_code == 403
    assert client.get("/forgotten-api/").status_code == 403


# --- Every patient URL, behaviourally ---------------------------------------------------

PATIENT_URLS = [
    (route, name)
    for route, name, view, _ in walk(get_resolver().url_patterns)
    if access.declared_guard(view) == access.PATIENT
]


def test_the_patient_urls_are_the_ones_expected():
    assert len(PATIENT_URLS) == 39, PATIENT_URLS  # + discussions: API list, API detail, web add
    # + the TRD status history (API)
    # + self-report links: API list, web add, web e-mail


def concrete(route: str, patient, records) -> str:
    """The route with real ids: the patient's, and the trial's, medicine's, therapy's or
    score's for a sub-record."""
    if "<int:patient_id>" not in route:
        return "/" + route.replace("<int:pk>", str(patient.pk))
    kind = next(
        (
            kind
            for kind in ("trial", "medicine", "score", "therap", "episode", "discussion")
            if kind in route
        ),
        None,
    )
    sub = records[kind].pk if kind else None
    return "/" + route.replace("<int:patient_id>", str(patient.pk)).replace("<int:pk>", str(sub))


@pytest.fixture
def records(patient):
    """A trial that ended 60 days ago with scores that measure its outcome (so every page about
    it has something to show), a therapy and the scores."""
    start = today() - timedelta(days=120)
    trial = TrialFactory(patient=patient, start_date=start, end_date=start + timedelta(days=60))
    ScaleScoreFactory(
        patient=patient, scale="phq9", items=[3, 3, 3, 3, 2, 2, 2, 1, 1], total=20, date=start
    )
    score = ScaleScoreFactory(
        patient=patient, scale="phq9", items=[1] * 9, total=9, date=start + timedelta(days=55)
    )
    medicine = TrialFactory(patient=patient, drug=drug("lithium"), dose_mg=600)
    return {
        "trial": trial,
        "medicine": medicine,
        "score": score,
        "therap": TherapyFactory(patient=patient),
        "episode": Episode.objects.create(patient=patient, onset=start),
        "discussion": Discussion.objects.create(
            patient=patient, option_key="ect", date=start, decision="considering"
        ),
    }


@pytest.mark.parametrize(("route", "name"), PATIENT_URLS, ids=[n for _, n in PATIENT_URLS])
def test_a_patient_url_hides_other_practices_and_records_one_read(
    route, name, login, practice, other_practice, patient, records
):
    # Clinical and audit rights, so that every patient URL is open to them in their practice.
    reviewer = member(practice, Role.CLINICIAN, Role.AUDITOR, username="reviewer")
    outsider = member(other_practice, Role.CLINICIAN, Role.AUDITOR, username="outsider")
    url = concrete(route, patient, records)

    assert login(outsider).get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="view").exists()

    before = AuditEvent.objects.count()
    response = login(reviewer).get(url)
    if response.status_code == 405:  # an action (POST only): nothing is shown, nothing read
        assert AuditEvent.objects.count() == before
        return
    assert response.status_code == 200, (url, response.status_code)
    new = list(AuditEvent.objects.filter(pk__gt=0).order_by("pk")[before:])
    assert [(e.action, e.patient_id, e.actor) for e in new] == [("view", patient.pk, "reviewer")]
