from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from core.dates import range_error
from core.widgets import DateInput

from .models import Action
from .selectors import filter_events

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
        if error := range_error(since, until):
            self.add_error("until", error)
        return data

    def filter(self, events, practice_id: int):
        """Apply the valid filters (audit.selectors.filter_events); call after is_valid()."""
        return filter_events(events, practice_id, **self.cleaned_data)
