from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from audit.models import ImmutableError
from core.dates import today, validate_recorded_date
from treatments import diagnosis as diagnoses
from treatments import trd

BEFORE_BIRTH = "Cannot be before the patient's date of birth."


def check_on_or_after_birth(patient, errors: dict, field: str, value, message=BEFORE_BIRTH):
    """The one rule for every dated record of a patient (and the patient's own dates): not
    before the date of birth. Puts `message` in `errors[field]` when `value` is earlier.
    The reverse, a date of birth moved after a recorded date, is Patient.clean's."""
    born = patient.date_of_birth if patient is not None else None
    if value and born and value < born:
        errors[field] = message


# The patient's dated records that a date of birth may not come after: related name, date
# field, what the message calls it, further filter. The open episode's onset is the patient's
# `episode_start`, checked on the patient itself (and possibly changed in the same write).
DATED_RECORDS = (
    ("trials", "start_date", "treatment", {}),
    ("therapies", "start_date", "treatment", {}),
    ("scores", "date", "score", {}),
    ("discussions", "date", "discussion", {}),
    ("episodes", "onset", "episode", {"ended__isnull": False}),
)

# The TRD status on a given day, in SQL, from the stored summary (see Patient below): the one
# statement of it, for the querysets here and the groups of patients.groups.


def meets_trd_on(day, via: str = "") -> Q:
    """`via` reaches the patient from another model ("patient__" from a trial)."""
    return Q(**{f"{via}trd_meets_on__lte": day})


def one_failed_trial_on(day) -> Q:
    """Exactly one adequate failed antidepressant on `day`."""
    return Q(trd_one_failed_on__lte=day) & ~meets_trd_on(day)


def any_failed_trial_on(day) -> Q:
    """At least one adequate failed antidepressant on `day` (TRD met or not)."""
    return Q(trd_one_failed_on__lte=day)


class PatientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(deleted_at__isnull=True)

    def meeting_trd(self, day):
        return self.filter(meets_trd_on(day))

    def not_meeting_trd(self, day):
        return self.filter(~meets_trd_on(day))

    def with_one_failed_trial(self, day):
        return self.filter(one_failed_trial_on(day))

    def with_no_failed_trial(self, day):
        return self.filter(~any_failed_trial_on(day))


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
    diagnosis = models.CharField(
        max_length=20,
        choices=diagnoses.CHOICES,
        default=diagnoses.UNKNOWN,
        help_text="The TRD definition applies to major depressive disorder only.",
    )
    psychotic_features = models.BooleanField(
        "psychotic features",
        default=False,
        help_text="In the current episode; shown beside the TRD status and used in staging.",
    )
    self_report_every_weeks = models.PositiveSmallIntegerField(
        "self-report PHQ-9 every (weeks)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="While an antidepressant trial is ongoing, the clinicians are reminded to "
        "send a new self-report link this often. Empty: no reminder.",
    )
    baseline_severity = models.CharField(
        "severity at the start of the episode",
        max_length=20,
        blank=True,
        choices=[
            ("subsyndromal", "Subsyndromal"),
            ("mild", "Mild"),
            ("moderate", "Moderate"),
            ("severe", "Severe without psychosis"),
            ("severe_psychotic", "Severe with psychosis"),
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
        indexes = [
            # The patient list's order: a deep page skips its OFFSET in the index alone.
            models.Index(
                fields=["practice", "identifier", "id"],
                name="patient_list_order",
                condition=Q(deleted_at__isnull=True),
            ),
        ]
        constraints = [
            # Record numbers are compared case-insensitively: "demo-001" is DEMO-001.
            models.UniqueConstraint(
                "practice",
                Lower("identifier"),
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

    @property
    def trd_status_label(self) -> str:
        return trd.status_label(self.trd_meets)

    @property
    def trd_not_applicable_reason(self) -> str | None:
        return diagnoses.not_applicable_reason(self.diagnosis)

    def clean(self):
        if self.identifier:
            self.identifier = self.identifier.strip()
        errors = {}
        check_on_or_after_birth(
            self, errors, "episode_start", self.episode_start, "Cannot be before the date of birth."
        )
        if errors:
            raise ValidationError(errors)
        if self.pk and self.date_of_birth:
            self._check_birth_before_records()
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

    def _check_birth_before_records(self):
        """A date of birth moved after the first recorded (not removed) treatment, score,
        discussion or ended episode is refused: the stored date and the first date of each, in
        one query. An unchanged date of birth is never refused, so a record kept from before
        scores and discussions were checked stays editable."""
        firsts = {}
        for related, field, _, extra in DATED_RECORDS:
            records = self._meta.get_field(related).related_model._default_manager
            firsts[f"first_{related}"] = Subquery(
                records.filter(patient=OuterRef("pk"), deleted_at__isnull=True, **extra)
                .order_by(field)
                .values(field)[:1]
            )
        row = Patient.objects.filter(pk=self.pk).values("date_of_birth", **firsts).first()
        if row is None or row["date_of_birth"] == self.date_of_birth:
            return
        dated = [
            (row[f"first_{related}"], kind)
            for related, _, kind, _ in DATED_RECORDS
            if row[f"first_{related}"] is not None
        ]
        if not dated:
            return
        earliest, kind = min(dated, key=lambda pair: pair[0])  # a tie names the first listed
        if self.date_of_birth > earliest:
            raise ValidationError(
                {"date_of_birth": f"Cannot be after the first recorded {kind} ({earliest})."}
            )


class EpisodeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(deleted_at__isnull=True)


class Episode(models.Model):
    """A depressive episode of the patient. The current episode is the latest without an end;
    its onset is kept on the patient as `episode_start` (patients.episodes keeps them in step),
    which is what the TRD rule and the staging read."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    onset = models.DateField(validators=[validate_recorded_date])
    ended = models.DateField(null=True, blank=True, validators=[validate_recorded_date])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["onset", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended__isnull=True) | Q(ended__gte=models.F("onset")),
                name="episode_ends_after_onset",
                violation_error_message="An episode cannot end before its onset.",
            ),
        ]

    def __str__(self):
        return f"episode from {self.onset}"

    @property
    def is_open(self) -> bool:
        return self.ended is None

    def clean(self):
        errors = {}
        if self.onset and self.ended and self.ended < self.onset:
            errors["ended"] = "Cannot be before the onset."
        patient = self.patient if self.patient_id else None
        check_on_or_after_birth(
            patient, errors, "onset", self.onset, "Cannot be before the date of birth."
        )
        if patient and self.onset and not errors:
            others = Episode.objects.active().filter(patient=patient)
            if self.pk:
                others = others.exclude(pk=self.pk)
            for other in others:
                if other.ended is None and self.ended is None and other.onset < self.onset:
                    continue  # a new current episode: patients.episodes ends the open one
                other_end = other.ended or date.max
                this_end = self.ended or date.max
                if self.onset <= other_end and other.onset <= this_end:
                    errors["onset"] = (
                        f"Overlaps the episode from {other.onset:%Y-%m-%d}"
                        f"{' (still open)' if other.ended is None else f' to {other.ended:%Y-%m-%d}'}:"
                        " end that one first."
                    )
                    break
        if errors:
            raise ValidationError(errors)


class TrdStatusChange(models.Model):
    """One change of the patient's TRD status (met or not, the count of failed adequate trials,
    whether the definition applies), written once by the code that changed it
    (patients.trd_history) and never changed: the actor, and the record and action that caused
    it, in plain words. `actor` is empty (null in the API) for a change that came with time
    (an open trial reaching six weeks at an adequate dose), recorded by the daily step with the
    action "time"."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="trd_changes")
    changed_at = models.DateTimeField(default=timezone.now)
    effective_on = models.DateField(help_text="The day the status took effect.")
    meets_trd = models.BooleanField()
    failed_adequate_trial_count = models.PositiveSmallIntegerField()
    applicable = models.BooleanField()
    actor = models.CharField(max_length=150, blank=True)  # "" for a change time made
    cause_object_type = models.CharField(max_length=50, blank=True)
    cause_object_id = models.CharField(max_length=64, blank=True)
    cause_action = models.CharField(max_length=20)
    cause_summary = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["patient", "changed_at"], name="trd_change_patient_time")]

    def __str__(self):
        return f"TRD status of patient {self.patient_id} from {self.effective_on}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("A recorded TRD status change cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("A recorded TRD status change cannot be deleted.")

    @property
    def status(self) -> tuple[bool, int, bool]:
        return (self.meets_trd, self.failed_adequate_trial_count, self.applicable)

    @property
    def status_words(self) -> str:
        """The status as the history says it mid-sentence ("meets TRD", "does not meet TRD")."""
        if not self.applicable:
            return "definition does not apply"
        label = trd.status_label(self.meets_trd)
        return label[:1].lower() + label[1:]
