from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts import access, form_recovery
from audit.models import Action, AuditEvent
from core.dates import today
from patients.scope import patient_view, patients_visible_to, record_list_read
from treatments import definitions, scales
from treatments.selectors import (
    patient_history,
    patient_warnings_and_staging,
    with_latest_phq9_item9,
)

from . import episodes, page_rows, services
from .forms import EpisodeForm, PatientForm, PatientSearchForm
from .groups import patient_filter
from .history import describe, record_names
from .models import Episode, Patient
from .removal import confirm_removal

PAGE_SIZE = 25


SEARCH_SESSION_KEY = "patient_search"
LIST_ORDER = ("identifier", "id")  # the index patient_list_order


def page_of_patients(patients, number):
    """Page `number` of `patients` in record-number order, each annotated with its latest
    PHQ-9 item 9. The page's patients are chosen first (LIMIT/OFFSET over the index) and only
    they are annotated: a subquery in the page query itself ran for every row the OFFSET
    skipped (100,000 times on page 4,000)."""
    page = Paginator(patients.order_by(*LIST_ORDER), PAGE_SIZE).get_page(number)
    shown = Patient.objects.filter(pk__in=page.object_list.values("pk"))
    page.object_list = with_latest_phq9_item9(shown).order_by(*LIST_ORDER)
    return page


@access.practice_view
def patient_list(request):
    patients = patients_visible_to(request.user)
    if request.method == "POST":
        # The record number searched for is patient data: it travels in the POST body and
        # the session, never in the URL (where logs and browser history would keep it).
        request.session[SEARCH_SESSION_KEY] = request.POST.get("q", "")[:64]
        status = request.POST.get("status", "")
        return redirect(f"{request.path}?status={status}" if status else request.path)
    search = PatientSearchForm(
        {"q": request.session.get(SEARCH_SESSION_KEY, ""), "status": request.GET.get("status", "")}
    )
    # The dashboard links here with ?trd= or ?drug_class=&outcome= (unknown values ignored).
    from_dashboard, dashboard_filter = patient_filter(request.GET, today())
    if from_dashboard is not None:
        patients = patients.filter(from_dashboard)
    page = page_of_patients(search.filter(patients), request.GET.get("page"))
    at_risk = [p for p in page if scales.at_suicide_risk(p.suicide_risk_flag, p.latest_phq9_item9)]
    record_list_read(request, page, {"page": "patient-list"})
    return render(
        request,
        "patients/patient_list.html",
        {
            "page": page,
            "search": search,
            "at_risk": at_risk,
            "dashboard_filter": dashboard_filter,
            "can_edit": access.can(request.user, access.EDIT_CLINICAL),
        },
    )


@patient_view(access.VIEW_CLINICAL, kwarg="pk", page="patient")
def patient_detail(request, scope):
    patient = scope.patient
    history = patient_history(patient)
    warnings, staging = patient_warnings_and_staging(history)
    events = AuditEvent.objects.filter(
        practice_id=patient.practice_id,
        patient_id=patient.pk,
        action__in=[Action.CREATE, Action.UPDATE, Action.DELETE],
    )[:20]
    names = record_names(patient, events)
    changes = [describe(event, names) for event in events]
    can_edit = access.can(request.user, access.EDIT_CLINICAL)
    return render(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "history": history,
            "evaluation": history.evaluation,
            "timeline_html": page_rows.rendered_timeline(history),
            "record_tables": page_rows.rendered_tables(history, can_edit=can_edit),
            "changes": changes,
            "warnings": warnings,
            "staging": staging,
            "can_edit": can_edit,
            "rule_text": definitions.page_text(),
        },
    )


@access.practice_view
@form_recovery.restorable
def patient_create(request):
    scope = access.open_practice_scope(request, access.EDIT_CLINICAL)
    form = PatientForm(request.POST or None, instance=Patient(practice=scope.practice))
    if request.method == "POST" and form.is_valid():
        patient = services.patient_create(scope=scope, patient=form.instance)
        messages.success(request, f"Patient {patient.identifier} added.")
        return redirect("patients:patient-detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form})


@patient_view(access.EDIT_CLINICAL, kwarg="pk", page="patient-edit")
@form_recovery.restorable
def patient_update(request, scope):
    patient = scope.patient
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        form, saved = form.submit(lambda **edit: services.patient_update(scope=scope, **edit))
        if saved:
            messages.success(request, "Patient details saved.")
            return redirect("patients:patient-detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "patient": patient})


@patient_view(access.EDIT_CLINICAL, kwarg="pk", page="patient-delete")
def patient_delete(request, scope):
    patient = scope.patient
    return confirm_removal(
        request,
        what=f"patient {patient.identifier} and their treatment history",
        cancel_url=patient.get_absolute_url(),
        remove=lambda reason: services.patient_delete(scope=scope, reason=reason),
        done_url=reverse("patients:patient-list"),
        done_message=f"Patient {patient.identifier} removed (kept in the audit trail).",
    )


@patient_view(access.EDIT_CLINICAL, page="episode-create")
@form_recovery.restorable
def episode_create(request, scope):
    patient = scope.patient
    form = EpisodeForm(request.POST or None, instance=Episode(patient=patient))
    if request.method == "POST" and form.is_valid():
        episodes.episode_create(scope=scope, episode=form.instance)
        messages.success(request, "Episode recorded.")
        return redirect(f"{patient.get_absolute_url()}#episodes")
    return render(request, "patients/episode_form.html", {"form": form, "patient": patient})


@patient_view(access.EDIT_CLINICAL, page="episode-update")
@form_recovery.restorable
def episode_update(request, scope, pk):
    patient, episode = scope.patient, scope.episode(pk)
    form = EpisodeForm(request.POST or None, instance=episode)
    if request.method == "POST" and form.is_valid():
        form, saved = form.submit(
            lambda **edit: episodes.episode_update(scope=scope, episode=episode, **edit)
        )
        if saved:
            messages.success(request, "Episode saved.")
            return redirect(f"{patient.get_absolute_url()}#episodes")
    return render(
        request,
        "patients/episode_form.html",
        {"form": form, "patient": patient, "episode": episode},
    )


@patient_view(access.EDIT_CLINICAL, page="episode-delete")
def episode_delete(request, scope, pk):
    patient, episode = scope.patient, scope.episode(pk)
    return confirm_removal(
        request,
        what=f"the episode from {episode.onset:%Y-%m-%d}",
        cancel_url=f"{patient.get_absolute_url()}#episodes",
        remove=lambda reason: episodes.episode_delete(scope=scope, episode=episode, reason=reason),
        done_url=f"{patient.get_absolute_url()}#episodes",
        done_message="Episode removed (kept in the audit trail).",
    )
