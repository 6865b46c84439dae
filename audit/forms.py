from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from patients.forms import DateInput

from .models import Action


class AuditFilterForm(forms.Form):
    """The audit trail's filters; shared by the auditor page and the API."""

    patient = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                 label="Patient id")
    actor = forms.CharField(required=False, max_length=150, label="User")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *Action.choices])
    since = forms.DateField(required=False, label="From", widget=DateInput())
    until = forms.DateField(required=False, label="Until (inclusive)", widget=DateInput())

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "Cannot be before the start of the range.")
        return data

    def filter(self, events):
        """Apply the valid filters; call after is_valid()."""
        data = self.cleaned_data
        if data.get("patient"):
            events = events.filter(patient_id=data["patient"])
        if data.get("actor"):
            events = events.filter(actor=data["actor"].strip())
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("since"):
            events = events.filter(timestamp__gte=_start_of(data["since"]))
        if data.get("until"):
            events = events.filter(timestamp__lt=_start_of(data["until"] + timedelta(days=1)))
        return events


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))
