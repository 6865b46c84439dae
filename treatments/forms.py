from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from core.widgets import DateInput
from patients.forms import VersionedForm

from . import catalog, options, scales
from .models import (
    Decision,
    Discussion,
    DoseChange,
    Drug,
    EctPlacement,
    Outcome,
    ScaleScore,
    Therapy,
    TherapyKind,
    Trial,
)
from .widgets import DrugChoiceField


def _formulation_choices():
    return [("", "Standard"), *catalog.formulation_choices()]


class TrialForm(VersionedForm):
    # Which formulations belong to which drug is the model's rule (Trial.clean); the script
    # static/js/formulation.js offers only the chosen drug's.
    formulation = forms.ChoiceField(
        choices=_formulation_choices,
        required=False,
        help_text="Only fluoxetine (weekly), paroxetine (CR) and selegiline (patch or oral) "
        "have forms with their own figures.",
        widget=forms.Select(attrs={"data-formulation-select": ""}),
    )

    class Meta:
        model = Trial
        fields = [
            "drug",
            "formulation",
            "start_date",
            "end_date",
            "dose_mg",
            "adherence",
            "outcome",
            "reason_stopped",
            "notes",
        ]
        field_classes = {"drug": DrugChoiceField}
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "dose_mg": forms.NumberInput(attrs={"step": "any", "min": "0"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        antidepressants = Drug.objects.filter(is_antidepressant=True)
        self.drugs = list(antidepressants)
        self.fields["drug"].queryset = antidepressants
        self.fields["drug"].widget.attrs["data-dose-hint-target"] = "dose-hint"
        self.fields["drug"].help_text = (
            "Antidepressants only: augmentation agents and other medicines are added as "
            "other medicines."
        )

    def dose_hints(self) -> dict[str, str]:
        return {str(drug.pk): drug.dose_hint() for drug in self.drugs}

    def formulation_options(self) -> dict[str, list[dict]]:
        """For static/js/formulation.js: each drug with formulations, its keys and dose hints."""
        options = {}
        for drug in self.drugs:
            forms_of_drug = catalog.formulations_of(drug.name)
            if forms_of_drug:
                options[str(drug.pk)] = [
                    {"key": form.key, "hint": Trial(drug=drug, formulation=form.key).dose_hint()}
                    for form in forms_of_drug
                ]
        return options


class MedicineForm(VersionedForm):
    """An augmentation agent or another medicine (an interaction partner such as the pill,
    valproate or rifampin): dates, dose and notes; augmentation agents also their outcome,
    which the staging reads. Stored as a Trial, never weighed as an antidepressant trial."""

    class Meta:
        model = Trial
        fields = ["drug", "start_date", "end_date", "dose_mg", "outcome", "notes"]
        field_classes = {"drug": DrugChoiceField}
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "dose_mg": forms.NumberInput(attrs={"step": "any", "min": "0"}),
        }
        labels = {"drug": "Medicine", "dose_mg": "Dose (mg/day)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["drug"].queryset = Drug.objects.filter(is_antidepressant=False)
        self.fields["outcome"].required = False
        self.fields["outcome"].label = "Outcome (augmentation agents only)"
        self.fields["outcome"].help_text = (
            "For lithium, an antipsychotic or liothyronine added to an antidepressant; "
            "left as unknown for other medicines."
        )

    def clean(self):
        data = super().clean()
        drug = data.get("drug")
        if drug is not None and not drug.is_augmentation_agent:
            data["outcome"] = Outcome.UNKNOWN
        elif not data.get("outcome"):
            data["outcome"] = Outcome.UNKNOWN
        return data


class DoseChangeForm(forms.ModelForm):
    class Meta:
        model = DoseChange
        fields = ["date", "dose_mg"]
        widgets = {
            "date": DateInput(attrs={"class": "form-control", "aria-label": "From date"}),
            "dose_mg": forms.NumberInput(
                attrs={
                    "step": "any",
                    "min": "0",
                    "class": "form-control",
                    "aria-label": "New dose (mg/day)",
                }
            ),
        }


class BaseDoseChangeFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].widget.attrs.update(
            {"class": "form-check-input", "aria-label": "Remove this dose change"}
        )


DoseChangeFormSet = forms.formset_factory(
    DoseChangeForm, formset=BaseDoseChangeFormSet, extra=2, can_delete=True, max_num=60
)


def dose_change_rows(formset) -> list[tuple]:
    """(date, dose_mg) of the filled rows that are not marked for deletion, with their forms."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if data.get("DELETE") or not data.get("date") or data.get("dose_mg") is None:
            continue
        rows.append((form, (data["date"], data["dose_mg"])))
    return rows


class TherapyForm(VersionedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Choose a therapy…")] + list(
            self.fields["kind"].choices
        )[1:]
        self.fields["kind"].widget.attrs["data-therapy-kind"] = ""
        self.fields["ect_placement"].choices = list(EctPlacement.choices)
        if not self.instance.ect_placement:
            self.initial["ect_placement"] = EctPlacement.UNKNOWN

    class Meta:
        model = Therapy
        fields = [
            "kind",
            "detail",
            "start_date",
            "end_date",
            "outcome",
            "ect_placement",
            "ect_sessions",
            "notes",
        ]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "ect_sessions": forms.NumberInput(attrs={"min": "1", "step": "1"}),
        }
        labels = {"ect_placement": "Electrode placement", "ect_sessions": "Number of sessions"}
        help_texts = {
            "ect_placement": "Bitemporal and bifrontal are bilateral placements.",
            "ect_sessions": "Optional.",
        }

    def clean(self):
        data = super().clean()
        if data.get("kind") and data["kind"] != TherapyKind.ECT:
            # The ECT fields are hidden for other therapies: whatever they hold does not apply.
            data["ect_placement"] = ""
            data["ect_sessions"] = None
        return data


# Short paraphrases of the PHQ-9 questions (Kroenke et al. 2001), for the item selects.
PHQ9_ITEM_LABELS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed or hopeless",
    "Trouble with sleep (too little or too much)",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about oneself",
    "Trouble concentrating",
    "Moving or speaking slowly, or being restless",
    "Thoughts of being better off dead or of self-harm",
)
PHQ9_ANSWERS = [
    ("0", "0 · not at all"),
    ("1", "1 · several days"),
    ("2", "2 · more than half the days"),
    ("3", "3 · nearly every day"),
]


class ScoreForm(VersionedForm):
    """One score: PHQ-9 by its nine items (the total is their sum), the others by total.
    Also the correction of a recorded score (VersionedForm: a stale edit is refused)."""

    class Meta:
        model = ScaleScore
        fields = ["scale", "date", "total"]
        widgets = {"date": DateInput()}
        help_texts = {
            "total": "Required for HAM-D-17 (0–52) and MADRS (0–60). For PHQ-9 it is the sum "
            "of the items; leave it empty.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scale"].choices = [("", "Choose a scale…"), *scales.SCALE_CHOICES]
        self.fields["scale"].widget.attrs["data-score-scale"] = ""
        self.fields["total"].required = False
        self.fields["total"].widget.attrs.update({"min": "0", "max": "60"})
        recorded = list(self.instance.items or []) if self.instance.pk else []
        if self.instance.scale == scales.PHQ9:
            self.initial["total"] = None  # computed from the items, which may be corrected
        for number, label in enumerate(PHQ9_ITEM_LABELS, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=f"{number}. {label}",
                choices=PHQ9_ANSWERS,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                initial=recorded[number - 1] if len(recorded) >= number else None,
            )

    def changes(self) -> dict:
        return {**super().changes(), "items": self.instance.items}

    def item_fields(self):
        return [self[f"item_{number}"] for number in range(1, len(PHQ9_ITEM_LABELS) + 1)]

    def _update_errors(self, errors):
        # The model's "items" error has no field here: clean() below already named each
        # unanswered item, and then the model's "total" error only repeats it.
        if hasattr(errors, "error_dict"):
            items = errors.error_dict.pop("items", None)
            if any(name.startswith("item_") for name in self._errors):
                errors.error_dict.pop("total", None)
            elif items:
                errors.error_dict.setdefault(NON_FIELD_ERRORS, []).extend(items)
        super()._update_errors(errors)

    def clean(self):
        """The PHQ-9 answers become the score's items; the scale's rule (and the total of a
        PHQ-9, the sum of its items) is the model's, ScaleScore.clean, run after this."""
        data = super().clean()
        scale = data.get("scale")
        if not scale:
            return data
        items = []
        if scale == scales.PHQ9:
            values = [data.get(f"item_{n}") for n in range(1, len(PHQ9_ITEM_LABELS) + 1)]
            for number, value in enumerate(values, start=1):
                if value is None:
                    self.add_error(f"item_{number}", "Answer every PHQ-9 item.")
            if all(value is not None for value in values):
                items = values
        self.instance.items = items
        return data


def _option_choices():
    return [("", "Choose an option…"), *((o.key, o.title) for o in options.load_options())]


class DiscussionForm(forms.ModelForm):
    """A discussion of one next-line option with the patient; which keys exist is the model's
    rule (Discussion.clean), the list only offers them by title."""

    option_key = forms.ChoiceField(label="Option discussed", choices=_option_choices)

    class Meta:
        model = Discussion
        fields = ["option_key", "date", "decision", "note"]
        widgets = {
            "date": DateInput(),
            "decision": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"date": "Date discussed", "decision": "Where it stands"}
        help_texts = {"note": "Optional: what was said, in a few words (up to 2,000 characters)."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = list(Decision.choices)  # no empty radio button
