
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Min, Q
from django.db.models.functions import Lower
from django.urls import reverse

from trdtracker.validators import today, validate_recorded_date


class PatientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(deleted_at__isnull=True)

    # The TRD status on a given day, in SQL, from the stored summary (see Patient below).
    def meeting_trd(self, day):
        return self.filter(trd_meets_on__lte=day)

    def not_meeting_trd(self, day):
        return self.exclude(trd_meets_on__lte=day)

    def with_one_failed_trial(self, day):
        """Exactly one adequate failed antidepressant on `day`."""
        return self.filter(trd_one_failed_on__lte=day).exclude(trd_meets_on__lte=day)

    def with_no_failed_trial(self, day):
        return self.exclude(trd_one_failed_on__lte=day)


class Patient(models.Model):
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    identifier = models.CharField(
        "record number",
        max_length=64,
        help_text="The practice's own record number for this patient (not a name).",
    )
    date_of_birth = models.DateField(validators=[validate_recorded_date])
    episode_start = models.DateField(
        "current episode began",
        null=True,
        blank=True,
        validators=[validate_recorded_date],
        help_text="Onset of the current depressive episode, when known.",
    )
    notes = models.TextField(blank=True)
    baseline_severity = models.CharField(
        "severity at the start of the episode",
        max_length=20,
        blank=True,
        choices=[
            ("subsyndromal", "Subsyndromal"), ("mild", "Mild"), ("moderate", "Moderate"),
            ("severe", "Severe without psychosis"), ("severe_psychotic", "Severe with psychosis"),
        ],
        help_text="The clinician's rating; without it, staging uses the episode's early scores.",
    )
    suicide_risk_flag = models.BooleanField(
        "suicide risk: discuss urgently",
        default=False,
        help_text="Set by a clinician; a PHQ-9 item 9 above 0 raises the same flag.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Raised by one with every stored change; a write names the version it read (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)

    # The TRD summary, re-evaluated under a lock on this row with every change to the history
    # (treatments.services.refresh_trd_summary). It holds how the failed-trial count grows as
    # days pass (open trials crossing the threshold), so lists and counts know the status on
    # any day in SQL and reads never write; the nightly task only repairs drift.
    trd_evaluated_on = models.DateField(null=True, blank=True)
    trd_count_steps = models.JSONField(default=list, blank=True)  # [["YYYY-MM-DD", count], ...]
    trd_one_failed_on = models.DateField(null=True, blank=True)  # first day with >= 1
    trd_meets_on = models.DateField(null=True, blank=True)  # first day with >= 2 (meets TRD)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["identifier"]
        constraints = [
            # Record numbers are compared case-insensitively: "demo-001" is DEMO-001.
            models.UniqueConstraint(
                "practice", Lower("identifier"),
                condition=Q(deleted_at__isnull=True),
                name="patient_identifier_unique_in_practice",
                violation_error_message="A patient with this record number already exists.",
            ),
        ]

    def __str__(self):
        return self.identifier

    def get_absolute_url(self):
        return reverse("patients:patient-detail", args=[self.pk])

    def trd_failed_count_on(self, day) -> int:
        from treatments.trd import count_on, steps_from_stored

        return count_on(steps_from_stored(self.trd_count_steps), day)

    @property
    def trd_failed_count(self) -> int:
        """Different antidepressants that failed after an adequate trial, today."""
        return self.trd_failed_count_on(today())

    @property
    def trd_meets(self) -> bool:
        return self.trd_meets_on is not None and self.trd_meets_on <= today()

    def clean(self):
        if self.identifier:
            self.identifier = self.identifier.strip()
        if self.episode_start and self.date_of_birth and self.episode_start < self.date_of_birth:
            raise ValidationError({"episode_start": "Cannot be before the date of birth."})
        if self.pk and self.date_of_birth:
            self._check_birth_before_treatments()
        if self.practice_id and self.identifier:
            duplicate = Patient.objects.active().filter(
                practice_id=self.practice_id, identifier__iexact=self.identifier
            )
            if self.pk:
                duplicate = duplicate.exclude(pk=self.pk)
            if duplicate.exists():
                raise ValidationError(
                    {"identifier": "A patient with this record number already exists."}
                )

    def _check_birth_before_treatments(self):
        starts = [
            records.filter(deleted_at__isnull=True).aggregate(first=Min("start_date"))["first"]
            for records in (self.trials, self.therapies)
        ]
        earliest = min((start for start in starts if start is not None), default=None)
        if earliest is not None and self.date_of_birth > earliest:
            raise ValidationError(
                {"date_of_birth": f"Cannot be after the first recorded treatment ({earliest})."}
            )
