"""Validators shared by the clinical models (and so by their forms and the API)."""

from django.core.exceptions import ValidationError
from django.utils import timezone


def today():
    return timezone.localdate()


def validate_not_future(value):
    if value is not None and value > today():
        raise ValidationError("Cannot be in the future.", code="future")
