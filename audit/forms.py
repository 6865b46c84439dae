from datetime import date, datetime, time, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from core.widgets import DateInput

from .models import Action

# Filter dates a range query can hold (9999-12-31 + 1 day overflows).
FILTER_DATE_BOUNDS = [MinValueValidator(date(1900, 1, 1)), MaxValueValidator(date(2999, 12, 31))]


class AuditFilterForm(forms.Form):
    """The audit trail's filters; shared by the auditor page and the API."""

    patient = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, label="Patient id"
    )
    identifier = forms.CharField(required=False, max_length=64, label="Record number")
    actor = forms.CharField(required=False, max_length=150, label="User")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *Action.choices])
    since = forms.DateField(
        required=False, label="From", widget=DateInput(), validators=FILTER_DATE_BOUNDS
    )
    until = forms.DateField(
        required=False, label="Until (inclusive)", widget=DateInput(), validators=FILTER_DATE_BOUNDS
    )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "Cannot be before the start of the range.")
        return data

    def filter(self, events, practice_id: int):
        """Apply the valid filters; call after is_valid(). A patient (by id or record number
        within the practice) matches the events about them and the list reads and exports that
        included them."""
        data = self.cleaned_data
        patient_ids = self.patient_ids(practice_id)
        if patient_ids is not None:
            events = events.about_patients(patient_ids)
        if data.get("actor"):
            events = events.filter(actor=data["actor"].strip())
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("since"):
            events = events.filter(timestamp__gte=_start_of(data["since"]))
        if data.get("until"):
            events = events.filter(timestamp__lt=_start_of(data["until"] + timedelta(days=1)))
        return events

    def patient_ids(self, practice_id: int) -> list[int] | None:
        """The patients the filters name, or None when they name none. A record number is
        looked up within the practice (removed patients too)."""
        from patients.models import Patient

        data = self.cleaned_data
        ids = [data["patient"]] if data.get("patient") else None
        if data.get("identifier"):
            named = Patient.objects.filter(
                practice_id=practice_id, identifier=data["identifier"].strip()
            ).values_list("pk", flat=True)
            ids = [pk for pk in named if ids is None or pk in ids]
        return ids


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))
