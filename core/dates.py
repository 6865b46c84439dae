"""Dates of clinical records: today in the practice's time zone and the recorded-date rules
(shared by the models, and so by their forms and the API)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone


def today():
    return timezone.localdate()


def validate_not_future(value):
    if value is not None and value > today():
        raise ValidationError("Cannot be in the future.", code="future")


EARLIEST_DATE = date(1900, 1, 1)


def validate_recorded_date(value):
    """A date of birth or a clinical date: from 1 January 1900, and not in the future."""
    if value is not None and value < EARLIEST_DATE:
        raise ValidationError("Cannot be before 1 January 1900.", code="too_early")
    validate_not_future(value)


def range_error(since: date | None, until: date | None) -> str | None:
    """What is wrong with a date range whose end comes before its start (both inclusive)."""
    if since and until and until < since:
        return "Cannot be before the start of the range."
    return None
