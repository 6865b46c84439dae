from collections import defaultdict

from django import forms

from patients.forms import DateInput, VersionedForm

from . import scales
from .models import DoseChange, Drug, ScaleScore, Therapy, Trial


def grouped_drug_choices(drugs) -> list:
    """Antidepressants grouped by class first, then the other agents."""
    groups = defaultdict(list)
    for drug in drugs:
        group = drug.drug_class if drug.is_antidepressant else f"Not an antidepressant: {drug.drug_class}"
        brands = f" ({', '.join(drug.brand_names)})" if drug.brand_names else ""
        groups[(not drug.is_antidepressant, group)].append((drug.pk, f"{drug.name}{brands}"))
    return [("", "Choose a drug…")] + [(group, items) for (_, group), items in sorted(groups.items())]


class TrialForm(VersionedForm):
    class Meta:
        model = Trial
        fields = ["drug", "start_date", "end_date", "dose_mg", "adherence", "outcome",
                  "reason_stopped", "notes"]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "dose_mg": forms.NumberInput(attrs={"step": "any", "min": "0"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.drugs = list(Drug.objects.all())
        self.fields["drug"].queryset = Drug.objects.all()
        self.fields["drug"].choices = grouped_drug_choices(self.drugs)
        self.fields["drug"].widget.attrs["data-dose-hint-target"] = "dose-hint"

    def dose_hints(self) -> dict[str, str]:
        return {str(drug.pk): drug.dose_hint() for drug in self.drugs}


class DoseChangeForm(forms.ModelForm):
    class Meta:
        model = DoseChange
        fields = ["date", "dose_mg"]
        widgets = {
            "date": DateInput(attrs={"class": "form-control", "aria-label": "From date"}),
            "dose_mg": forms.NumberInput(
                attrs={"step": "any", "min": "0", "class": "form-control",
                       "aria-label": "New dose (mg/day)"}
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

    class Meta:
        model = Therapy
        fields = ["kind", "detail", "start_date", "end_date", "outcome", "notes"]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


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
PHQ9_ANSWERS = [("", "—"), ("0", "0 · not at all"), ("1", "1 · several days"),
                ("2", "2 · more than half the days"), ("3", "3 · nearly every day")]


class ScoreForm(forms.ModelForm):
    """One score: PHQ-9 by its nine items (the total is their sum), the others by total."""

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
        for number, label in enumerate(PHQ9_ITEM_LABELS, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=f"{number}. {label}", choices=PHQ9_ANSWERS, coerce=int,
                empty_value=None, required=False,
            )

    def item_fields(self):
        return [self[f"item_{number}"] for number in range(1, len(PHQ9_ITEM_LABELS) + 1)]

    def _update_errors(self, errors):
        # clean() below already reported item problems on the item fields; the model's
        # "items" (and then "total") errors would only repeat them.
        if hasattr(errors, "error_dict"):
            errors.error_dict.pop("items", None)
            if any(name.startswith("item_") for name in self._errors):
                errors.error_dict.pop("total", None)
        super()._update_errors(errors)

    def clean(self):
        data = super().clean()
        scale = data.get("scale")
        if not scale:
            return data
        total = data.get("total")
        items = []
        if scale == scales.PHQ9:
            values = [data.get(f"item_{n}") for n in range(1, len(PHQ9_ITEM_LABELS) + 1)]
            for number, value in enumerate(values, start=1):
                if value is None:
                    self.add_error(f"item_{number}", "Answer every PHQ-9 item.")
            if any(value is None for value in values):
                return data
            items = values
        errors = scales.validate(scale, total, items)
        if scale != scales.PHQ9 and total is None:
            errors["total"] = f"Enter the {scales.SCALES[scale].name} total."
        for field, message in errors.items():
            self.add_error("scale" if field == "scale" else None if field == "items" else field,
                           message)
        if not errors:
            self.instance.items = items
            data["total"] = scales.total_of(scale, total, items)  # copied to the instance
        return data
