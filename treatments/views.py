from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import access
from audit.services import client_ip
from patients.versioning import StaleVersion
from trdtracker.validators import today

from . import measured, services
from .forms import DoseChangeFormSet, ScoreForm, TherapyForm, TrialForm, dose_change_rows
from .models import ScaleScore, Therapy, Trial, validate_dose_changes
from .selectors import active_scores


def _save_trial(form, formset, save):
    """Validate the trial and its dose changes together; save nothing unless all are valid."""
    if not (form.is_valid() and formset.is_valid()):
        return False
    rows = dose_change_rows(formset)
    errors = validate_dose_changes(form.instance, [change for _, change in rows])
    for index, message in errors.items():
        rows[index][0].add_error("date", message)
    if errors:
        return False
    try:
        save([change for _, change in rows])
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


@login_required
def trial_create(request, patient_id):
    patient = access.get_patient_for_user(request.user, patient_id, access.EDIT_CLINICAL)
    form = TrialForm(request.POST or None, instance=Trial(patient=patient))
    formset = DoseChangeFormSet(request.POST or None, prefix="doses")
    if request.method == "POST" and _save_trial(
        form, formset,
        lambda changes: services.trial_create(
            user=request.user, patient=patient, trial=form.instance, dose_changes=changes,
            ip=client_ip(request),
        ),
    ):
        messages.success(request, f"Trial of {form.instance.drug.name} added.")
        return redirect(patient.get_absolute_url())
    return render(
        request, "treatments/trial_form.html",
        {"patient": patient, "form": form, "formset": formset},
    )


@login_required
def trial_update(request, patient_id, pk):
    patient, trial = access.get_trial_for_user(request.user, patient_id, pk, access.EDIT_CLINICAL)
    initial = [{"date": c.date, "dose_mg": c.dose_mg} for c in trial.dose_changes.all()]
    form = TrialForm(request.POST or None, instance=trial)
    formset = DoseChangeFormSet(request.POST or None, prefix="doses", initial=initial)
    if request.method == "POST":
        try:
            saved = _save_trial(
                form, formset,
                lambda changes: services.trial_update(
                    user=request.user, trial=trial, changes=form.changes(),
                    dose_changes=changes, if_match=form.if_match(), ip=client_ip(request),
                ),
            )
        except StaleVersion as stale:
            form, saved = form.after_conflict(stale), False
        if saved:
            messages.success(request, f"Trial of {form.instance.drug.name} saved.")
            return redirect(patient.get_absolute_url())
    return render(
        request, "treatments/trial_form.html",
        {"patient": patient, "form": form, "formset": formset, "trial": trial},
    )


@login_required
def trial_delete(request, patient_id, pk):
    patient, trial = access.get_trial_for_user(request.user, patient_id, pk, access.EDIT_CLINICAL)
    if request.method == "POST":
        services.trial_delete(user=request.user, trial=trial, ip=client_ip(request))
        messages.success(request, f"Trial of {trial.drug.name} removed (kept in the audit trail).")
        return redirect(patient.get_absolute_url())
    return render(
        request, "confirm_delete.html",
        {"what": f"the trial of {trial.drug.name} from {trial.start_date:%Y-%m-%d}",
         "cancel_url": patient.get_absolute_url()},
    )


@login_required
def therapy_create(request, patient_id):
    patient = access.get_patient_for_user(request.user, patient_id, access.EDIT_CLINICAL)
    form = TherapyForm(request.POST or None, instance=Therapy(patient=patient))
    if request.method == "POST" and form.is_valid():
        services.therapy_create(
            user=request.user, patient=patient, therapy=form.instance, ip=client_ip(request)
        )
        messages.success(request, f"{form.instance.get_kind_display()} added.")
        return redirect(patient.get_absolute_url())
    return render(request, "treatments/therapy_form.html", {"patient": patient, "form": form})


@login_required
def therapy_update(request, patient_id, pk):
    patient, therapy = access.get_therapy_for_user(request.user, patient_id, pk, access.EDIT_CLINICAL)
    form = TherapyForm(request.POST or None, instance=therapy)
    if request.method == "POST" and form.is_valid():
        try:
            services.therapy_update(
                user=request.user, therapy=therapy, changes=form.changes(),
                if_match=form.if_match(), ip=client_ip(request),
            )
        except StaleVersion as stale:
            form = form.after_conflict(stale)
        else:
            messages.success(request, f"{therapy.get_kind_display()} saved.")
            return redirect(patient.get_absolute_url())
    return render(
        request, "treatments/therapy_form.html",
        {"patient": patient, "form": form, "therapy": therapy},
    )


@login_required
def therapy_delete(request, patient_id, pk):
    patient, therapy = access.get_therapy_for_user(request.user, patient_id, pk, access.EDIT_CLINICAL)
    if request.method == "POST":
        services.therapy_delete(user=request.user, therapy=therapy, ip=client_ip(request))
        messages.success(request, f"{therapy.get_kind_display()} removed (kept in the audit trail).")
        return redirect(patient.get_absolute_url())
    return render(
        request, "confirm_delete.html",
        {"what": f"the {therapy.get_kind_display()} from {therapy.start_date:%Y-%m-%d}",
         "cancel_url": patient.get_absolute_url()},
    )


@login_required
@require_POST
def trial_use_measured_outcome(request, patient_id, pk):
    """Set the trial's recorded outcome to the one its scores show (the clinician's choice)."""
    patient, trial = access.get_trial_for_user(request.user, patient_id, pk, access.EDIT_CLINICAL)
    result = measured.measured_outcome(
        active_scores(patient), start=trial.start_date, end=trial.end_date, as_of=today()
    )
    if result is None:
        messages.error(request, "The scores do not give a measured outcome for this trial.")
        return redirect(patient.get_absolute_url())
    try:
        trial = services.trial_update(
            user=request.user, trial=trial, changes={"outcome": result.outcome},
            ip=client_ip(request),
        )
    except ValidationError as error:
        messages.error(request, f"Not saved: {' '.join(error.messages)}")
        return redirect(patient.get_absolute_url())
    messages.success(
        request,
        f"Outcome of the {trial.drug.name} trial set to "
        f"{trial.get_outcome_display().lower()} ({result.summary}).",
    )
    return redirect(patient.get_absolute_url())


@login_required
def score_create(request, patient_id):
    patient = access.get_patient_for_user(request.user, patient_id, access.EDIT_CLINICAL)
    form = ScoreForm(request.POST or None, instance=ScaleScore(patient=patient))
    if request.method == "POST" and form.is_valid():
        score = services.score_create(
            user=request.user, patient=patient, score=form.instance, ip=client_ip(request)
        )
        messages.success(request, f"{score.get_scale_display()} score {score.total} recorded.")
        return redirect(f"{patient.get_absolute_url()}#scores")
    return render(request, "treatments/score_form.html", {"patient": patient, "form": form})
