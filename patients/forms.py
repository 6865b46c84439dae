from django import forms
from django.core.exceptions import ValidationError

from core.dates import today
from core.widgets import DateInput
from treatments import trd

from .models import Episode, Patient
from .versioning import StaleVersion


class VersionedForm(forms.ModelForm):
    """An edit form that carries the version of the record it was opened on, so a submit after
    someone else's change is refused instead of overwriting it (patients.versioning)."""

    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def if_match(self) -> set[int] | None:
        version = self.cleaned_data.get("version")
        return {version} if version else None

    def changes(self) -> dict:
        return {
            field: self.cleaned_data[field]
            for field in self._meta.fields
            if field in self.cleaned_data
        }

    def submit(self, update) -> tuple["VersionedForm", bool]:
        """Save this valid form's changes through `update(changes=..., if_match=...)` (a
        service). Returns (form, saved): on a stale version, the form explaining the conflict;
        on a rule the service checks beyond the form, the same form with its message."""
        try:
            update(changes=self.changes(), if_match=self.if_match())
        except StaleVersion as stale:
            return self.after_conflict(stale), False
        except ValidationError as error:
            self.add_error(None, error)
            return self, False
        return self, True

    def after_conflict(self, stale):
        """The same input on the current record, the conflict explained; it now names the
        current version, so submitting it again is a deliberate overwrite."""
        data = self.data.copy()
        data[self.add_prefix("version")] = stale.record.version
        again = type(self)(data, instance=stale.record)
        again.is_valid()
        again.add_error(None, str(stale))
        return again


def posted_version(data) -> int:
    """The version a confirmation page posted back, read as VersionedForm reads it; 0 (never
    current, so refused as stale) when it is missing or not a version."""
    try:
        return VersionedForm.base_fields["version"].clean(data.get("version")) or 0
    except ValidationError:
        return 0


class PatientForm(VersionedForm):
    class Meta:
        model = Patient
        fields = [
            "identifier",
            "date_of_birth",
            "diagnosis",
            "psychotic_features",
            "episode_start",
            "baseline_severity",
            "suicide_risk_flag",
            "self_report_every_weeks",
            "notes",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "episode_start": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["diagnosis"].required = False  # "not recorded" when left out

    def clean_diagnosis(self):
        return self.cleaned_data.get("diagnosis") or Patient._meta.get_field("diagnosis").default


class EpisodeForm(VersionedForm):
    class Meta:
        model = Episode
        fields = ["onset", "ended"]
        widgets = {"onset": DateInput(), "ended": DateInput()}
        help_texts = {
            "ended": "Leave empty for the current episode. A new open episode ends the open one "
            "the day before its onset.",
        }


class PatientSearchForm(forms.Form):
    STATUS_CHOICES = [("", "Any TRD status"), *trd.STATUS_LABELS.items()]
    q = forms.CharField(required=False, max_length=64, label="Record number")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label="TRD status")

    def filter(self, patients):
        if not self.is_valid():
            return patients
        if query := self.cleaned_data["q"].strip():
            patients = patients.filter(identifier__icontains=query)
        status, day = self.cleaned_data["status"], today()
        if status == trd.MEETS:
            patients = patients.meeting_trd(day)
        elif status == trd.NOT_MET:
            patients = patients.not_meeting_trd(day)
        elif status == trd.ONE_FAILED:
            patients = patients.with_one_failed_trial(day)
        return patients
