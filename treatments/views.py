from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from accounts import access, form_recovery
from core.dates import today
from patients.forms import posted_version
from patients.removal import confirm_removal
from patients.scope import patient_view
from patients.versioning import StaleVersion

from . import services
from .forms import (
    DiscussionForm,
    DoseChangeFormSet,
    MedicineForm,
    ScoreForm,
    TherapyForm,
    TrialForm,
    dose_change_rows,
)
from .models import Discussion, Outcome, ScaleScore, Therapy, Trial, validate_dose_changes


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


@patient_view(access.EDIT_CLINICAL, page="trial-create")
@form_recovery.restorable
def trial_create(request, scope):
    patient = scope.patient
    form = TrialForm(request.POST or None, instance=Trial(patient=patient))
    formset = DoseChangeFormSet(request.POST or None, prefix="doses")
    if request.method == "POST" and _save_trial(
        form,
        formset,
        lambda changes: services.trial_create(
            scope=scope, trial=form.instance, dose_changes=changes
        ),
    ):
        messages.success(request, f"Trial of {form.instance.drug.name} added.")
        return redirect(patient.get_absolute_url())
    return render(
        request,
        "treatments/trial_form.html",
        {"patient": patient, "form": form, "formset": formset},
    )


@patient_view(access.EDIT_CLINICAL, page="trial-update")
@form_recovery.restorable
def trial_update(request, scope, pk):
    patient, trial = scope.patient, scope.trial(pk)
    if not trial.drug.is_antidepressant:
        return redirect("treatments:medicine-edit", patient_id=patient.pk, pk=trial.pk)
    initial = [{"date": c.date, "dose_mg": c.dose_mg} for c in trial.dose_changes.all()]
    form = TrialForm(request.POST or None, instance=trial)
    formset = DoseChangeFormSet(request.POST or None, prefix="doses", initial=initial)
    if request.method == "POST":
        try:
            saved = _save_trial(
                form,
                formset,
                lambda changes: services.trial_update(
                    scope=scope,
                    trial=trial,
                    changes=form.changes(),
                    dose_changes=changes,
                    if_match=form.if_match(),
                ),
            )
        except StaleVersion as stale:
            form, saved = form.after_conflict(stale), False
        if saved:
            messages.success(request, f"Trial of {form.instance.drug.name} saved.")
            return redirect(patient.get_absolute_url())
    return render(
        request,
        "treatments/trial_form.html",
        {"patient": patient, "form": form, "formset": formset, "trial": trial},
    )


@patient_view(access.EDIT_CLINICAL, page="medicine-create")
@form_recovery.restorable
def medicine_create(request, scope):
    patient = scope.patient
    form = MedicineForm(request.POST or None, instance=Trial(patient=patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.trial_create(scope=scope, trial=form.instance, dose_changes=[])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{form.instance.drug.name.capitalize()} added.")
            return redirect(f"{patient.get_absolute_url()}#medicines")
    return render(request, "treatments/medicine_form.html", {"patient": patient, "form": form})


@patient_view(access.EDIT_CLINICAL, page="medicine-update")
@form_recovery.restorable
def medicine_update(request, scope, pk):
    patient, trial = scope.patient, scope.trial(pk)
    if trial.drug.is_antidepressant:
        return redirect("treatments:trial-edit", patient_id=patient.pk, pk=trial.pk)
    form = MedicineForm(request.POST or None, instance=trial)
    if request.method == "POST" and form.is_valid():
        form, saved = form.submit(
            lambda **edit: services.trial_update(scope=scope, trial=trial, **edit)
        )
        if saved:
            messages.success(request, f"{trial.drug.name.capitalize()} saved.")
            return redirect(f"{patient.get_absolute_url()}#medicines")
    return render(
        request,
        "treatments/medicine_form.html",
        {"patient": patient, "form": form, "medicine": trial},
    )


@patient_view(access.EDIT_CLINICAL, page="trial-delete")
def trial_delete(request, scope, pk):
    patient, trial = scope.patient, scope.trial(pk)
    return confirm_removal(
        request,
        what=f"the trial of {trial.drug.name} from {trial.start_date:%Y-%m-%d}",
        cancel_url=patient.get_absolute_url(),
        remove=lambda reason: services.trial_delete(scope=scope, trial=trial, reason=reason),
        done_url=patient.get_absolute_url(),
        done_message=f"Trial of {trial.drug.name} removed (kept in the audit trail).",
    )


@patient_view(access.EDIT_CLINICAL, page="therapy-create")
@form_recovery.restorable
def therapy_create(request, scope):
    patient = scope.patient
    form = TherapyForm(request.POST or None, instance=Therapy(patient=patient))
    if request.method == "POST" and form.is_valid():
        services.therapy_create(scope=scope, therapy=form.instance)
        messages.success(request, f"{form.instance.get_kind_display()} added.")
        return redirect(patient.get_absolute_url())
    return render(request, "treatments/therapy_form.html", {"patient": patient, "form": form})


@patient_view(access.EDIT_CLINICAL, page="therapy-update")
@form_recovery.restorable
def therapy_update(request, scope, pk):
    patient, therapy = scope.patient, scope.therapy(pk)
    form = TherapyForm(request.POST or None, instance=therapy)
    if request.method == "POST" and form.is_valid():
        form, saved = form.submit(
            lambda **edit: services.therapy_update(scope=scope, therapy=therapy, **edit)
        )
        if saved:
            messages.success(request, f"{therapy.get_kind_display()} saved.")
            return redirect(patient.get_absolute_url())
    return render(
        request,
        "treatments/therapy_form.html",
        {"patient": patient, "form": form, "therapy": therapy},
    )


@patient_view(access.EDIT_CLINICAL, page="therapy-delete")
def therapy_delete(request, scope, pk):
    patient, therapy = scope.patient, scope.therapy(pk)
    return confirm_removal(
        request,
        what=f"the {therapy.get_kind_display()} from {therapy.start_date:%Y-%m-%d}",
        cancel_url=patient.get_absolute_url(),
        remove=lambda reason: services.therapy_delete(scope=scope, therapy=therapy, reason=reason),
        done_url=patient.get_absolute_url(),
        done_message=f"{therapy.get_kind_display()} removed (kept in the audit trail).",
    )


@patient_view(access.EDIT_CLINICAL, page="trial-use-measured-outcome")
def trial_use_measured_outcome(request, scope, pk):
    """Set an ended trial's recorded outcome to the one its scores show, after the clinician
    has seen both (GET: the confirmation; POST: the change)."""
    patient, trial = scope.patient, scope.trial(pk)
    try:
        if request.method != "POST":
            result = services.measured_outcome_to_adopt(trial, scope.scores())
            return render(
                request,
                "treatments/use_measured_outcome.html",
                {
                    "patient": patient,
                    "trial": trial,
                    "measured": result,
                    "measured_label": Outcome(result.outcome).label,
                },
            )
        trial, result = services.trial_adopt_measured_outcome(
            scope=scope,
            trial=trial,
            expected_version=posted_version(request.POST),
        )
    except services.OutcomeNotAdoptable as refusal:
        messages.error(request, str(refusal))
        return redirect(patient.get_absolute_url())
    except StaleVersion:
        messages.error(
            request,
            "The trial changed since you opened the confirmation: "
            "nothing was saved. Check it and try again.",
        )
        return redirect(patient.get_absolute_url())
    except ValidationError as error:
        messages.error(request, f"Not saved: {' '.join(error.messages)}")
        return redirect(patient.get_absolute_url())
    messages.success(
        request,
        f"Outcome of the {trial.drug.name} trial set to "
        f"{trial.get_outcome_display().lower()} ({result.summary}).",
    )
    return redirect(patient.get_absolute_url())


@patient_view(access.EDIT_CLINICAL, page="score-create")
@form_recovery.restorable
def score_create(request, scope):
    patient = scope.patient
    form = ScoreForm(request.POST or None, instance=ScaleScore(patient=patient))
    if request.method == "POST" and form.is_valid():
        score = services.score_create(scope=scope, score=form.instance)
        messages.success(request, f"{score.get_scale_display()} score {score.total} recorded.")
        return redirect(f"{patient.get_absolute_url()}#scores")
    return render(request, "treatments/score_form.html", {"patient": patient, "form": form})


@patient_view(access.EDIT_CLINICAL, page="score-update")
@form_recovery.restorable
def score_update(request, scope, pk):
    patient, score = scope.patient, scope.score(pk)
    form = ScoreForm(request.POST or None, instance=score)
    if request.method == "POST" and form.is_valid():
        form, saved = form.submit(
            lambda **edit: services.score_update(scope=scope, score=score, **edit)
        )
        if saved:
            messages.success(request, f"{form.instance.get_scale_display()} score corrected.")
            return redirect(f"{patient.get_absolute_url()}#scores")
    return render(
        request, "treatments/score_form.html", {"patient": patient, "form": form, "score": score}
    )


@patient_view(access.EDIT_CLINICAL, page="score-delete")
def score_delete(request, scope, pk):
    patient, score = scope.patient, scope.score(pk)
    return confirm_removal(
        request,
        what=f"the {score.get_scale_display()} score of {score.date:%Y-%m-%d}",
        cancel_url=f"{patient.get_absolute_url()}#scores",
        remove=lambda reason: services.score_delete(scope=scope, score=score, reason=reason),
        done_url=f"{patient.get_absolute_url()}#scores",
        done_message=f"{score.get_scale_display()} score removed (kept in the audit trail).",
    )


@patient_view(access.EDIT_CLINICAL, page="discussion-create")
@form_recovery.restorable
def discussion_create(request, scope):
    """Record a discussion of one option (?option=<key> preselects it) with the patient."""
    patient = scope.patient
    form = DiscussionForm(
        request.POST or None,
        instance=Discussion(patient=patient),
        initial={"option_key": request.GET.get("option", ""), "date": today()},
    )
    if request.method == "POST" and form.is_valid():
        discussion = services.discussion_create(scope=scope, discussion=form.instance)
        messages.success(request, f"Discussion of {discussion.option_title} recorded.")
        return redirect(f"{patient.get_absolute_url()}#options")
    return render(request, "treatments/discussion_form.html", {"patient": patient, "form": form})
