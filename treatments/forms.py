from collections import defaultdict

from django import forms

from patients.forms import DateInput

from .models import DoseChange, Drug, Therapy, Trial


def grouped_drug_choices(drugs) -> list:
    """Antidepressants grouped by class first, then the other agents."""
    groups = defaultdict(list)
    for drug in drugs:
        group = drug.drug_class if drug.is_antidepressant else f"Not an antidepressant: {drug.drug_class}"
        brands = f" ({', '.join(drug.brand_names)})" if drug.brand_names else ""
        groups[(not drug.is_antidepressant, group)].append((drug.pk, f"{drug.name}{brands}"))
    return [("", "Choose a drug…")] + [(group, items) for (_, group), items in sorted(groups.items())]


class TrialForm(forms.ModelForm):
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


class TherapyForm(forms.ModelForm):
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
