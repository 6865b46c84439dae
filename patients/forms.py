from django import forms

from .models import Patient


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["identifier", "date_of_birth", "episode_start", "baseline_severity",
                  "suicide_risk_flag", "notes"]
        widgets = {
            "date_of_birth": DateInput(),
            "episode_start": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class PatientSearchForm(forms.Form):
    STATUS_CHOICES = [
        ("", "Any TRD status"),
        ("meets", "Meets TRD"),
        ("not_met", "Does not meet TRD"),
        ("one_failed", "One adequate failed trial"),
    ]
    q = forms.CharField(required=False, max_length=64, label="Record number")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label="TRD status")

    def filter(self, patients):
        if not self.is_valid():
            return patients
        if query := self.cleaned_data["q"].strip():
            patients = patients.filter(identifier__icontains=query)
        status = self.cleaned_data["status"]
        if status == "meets":
            patients = patients.filter(trd_meets=True)
        elif status == "not_met":
            patients = patients.filter(trd_meets=False)
        elif status == "one_failed":
            patients = patients.filter(trd_meets=False, trd_failed_count=1)
        return patients
