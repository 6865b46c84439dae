from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import access
from patients.versioning import StaleVersion
from trdtracker.validators import today

from . import measured, services
from .forms import DoseChangeFormSet, ScoreForm, TherapyForm, TrialForm, dose_change_rows
from .models import ScaleScore, Therapy, Trial, validate_dose_changes


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


@access.patient_view(access.EDIT_CLINICAL, page="trial-create")
def trial_create(request, scope):
    patient = scope.patient
    form = TrialForm(request.POST or None, instance=Trial(patient=patient))
    formset = DoseChangeFormSet(request.POST or None, prefix="doses")
    if request.method == "POST" and _save_trial(
        form, formset,
        lambda changes: services.trial_create(
            scope=scope, trial=form.instance, dose_changes=changes
        ),
    ):
        messages.success(request, f"Trial of {form.instance.drug.name} added.")
        return redirect(patient.get_absolute_url())
    return render(
        request, "treatments/trial_form.html",
        {"patient": patient, "form": form, "formset": formset},
    )


@access.patient_view(access.EDIT_CLINICAL, page="trial-update")
def trial_update(request, scope, pk):
    patient, trial = scope.patient, scope.trial(pk)
    initial = [{"date": c.date, "dose_mg": c.dose_mg} for c in trial.dose_changes.all()]
    form = TrialForm(request.POST or None, instance=trial)
    formset = DoseChangeFormSet(request.POST or None, prefix="doses", initial=initial)
    if request.method == "POST":
        try:
            saved = _save_trial(
                form, formset,
                lambda changes: services.trial_update(
                    scope=scope, trial=trial, changes=form.changes(), dose_changes=changes,
                    if_match=form.if_match(),
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


@access.patient_view(access.EDIT_CLINICAL, page="trial-delete")
def trial_delete(request, scope, pk):
    patient, trial = scope.patient, scope.trial(pk)
    if request.method == "POST":
        services.trial_delete(scope=scope, trial=trial)
        messages.success(request, f"Trial of {trial.drug.name} removed (kept in the audit trail).")
        return redirect(patient.get_absolute_url())
    return render(
        request, "confirm_delete.html",
        {"what": f"the trial of {trial.drug.name} from {trial.start_date:%Y-%m-%d}",
         "cancel_url": patient.get_absolute_url()},
    )


@access.patient_view(access.EDIT_CLINICAL, page="therapy-create")
def therapy_create(request, scope):
    patient = scope.patient
    form = TherapyForm(request.POST or None, instance=Therapy(patient=patient))
    if request.method == "POST" and form.is_valid():
        services.therapy_create(scope=scope, therapy=form.instance)
        messages.success(request, f"{form.instance.get_kind_display()} added.")
        return redirect(patient.get_absolute_url())
    return render(request, "treatments/therapy_form.html", {"patient": patient, "form": form})


@access.patient_view(access.EDIT_CLINICAL, page="therapy-update")
def therapy_update(request, scope, pk):
    patient, therapy = scope.patient, scope.therapy(pk)
    form = TherapyForm(request.POST or None, instance=therapy)
    if request.method == "POST" and form.is_valid():
        try:
            services.therapy_update(
                scope=scope, therapy=therapy, changes=form.changes(), if_match=form.if_match()
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


@access.patient_view(access.EDIT_CLINICAL, page="therapy-delete")
def therapy_delete(request, scope, pk):
    patient, therapy = scope.patient, scope.therapy(pk)
    if request.method == "POST":
        services.therapy_delete(scope=scope, therapy=therapy)
        messages.success(request, f"{therapy.get_kind_display()} removed (kept in the audit trail).")
        return redirect(patient.get_absolute_url())
    return render(
        request, "confirm_delete.html",
        {"what": f"the {therapy.get_kind_display()} from {therapy.start_date:%Y-%m-%d}",
         "cancel_url": patient.get_absolute_url()},
    )


@access.patient_view(access.EDIT_CLINICAL, page="trial-use-measured-outcome")
@require_POST
def trial_use_measured_outcome(request, scope, pk):
    """Set the trial's recorded outcome to the one its scores show (the clinician's choice)."""
    patient, trial = scope.patient, scope.trial(pk)
    result = measured.measured_outcome(
        scope.scores(), start=trial.start_date, end=trial.end_date, as_of=today()
    )
    if result is None:
        messages.error(request, "The scores do not give a measured outcome for this trial.")
        return redirect(patient.get_absolute_url())
    try:
        trial = services.trial_update(
            scope=scope, trial=trial, changes={"outcome": result.outcome}
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


@access.patient_view(access.EDIT_CLINICAL, page="score-create")
def score_create(request, scope):
    patient = scope.patient
    form = ScoreForm(request.POST or None, instance=ScaleScore(patient=patient))
    if request.method == "POST" and form.is_valid():
        score = services.score_create(scope=scope, score=form.instance)
        messages.success(request, f"{score.get_scale_display()} score {score.total} recorded.")
        return redirect(f"{patient.get_absolute_url()}#scores")
    return render(request, "treatments/score_form.html", {"patient": patient, "form": form})
