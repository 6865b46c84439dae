from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.dates import today, validate_recorded_date
from patients.models import check_on_or_after_birth

from . import catalog, options, scales, trd

DOSE_SANITY_LIMIT_MG = Decimal("100000")
MAX_DOSE_FACTOR = 10
MAX_ECT_SESSIONS = 500  # a bound against typing errors, not a clinical limit


class Drug(models.Model):
    """One entry of the catalog loaded from treatments/data/drugs.csv by a data migration."""

    name = models.CharField(max_length=100, unique=True, help_text="Generic name, lower case.")
    drug_class = models.CharField(max_length=100)
    is_antidepressant = models.BooleanField()
    is_augmentation_agent = models.BooleanField(default=False)
    min_adequate_dose_mg = models.DecimalField(max_digits=10, decimal_places=3, null=True)
    max_dose_mg = models.DecimalField(max_digits=10, decimal_places=3, null=True)
    brand_names = models.JSONField(default=list, blank=True)
    min_dose_source = models.CharField(max_length=200, blank=True)
    max_dose_source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def facts(self) -> trd.DrugFacts:
        return trd.DrugFacts(
            name=self.name,
            drug_class=self.drug_class,
            is_antidepressant=self.is_antidepressant,
            min_adequate_dose_mg=self.min_adequate_dose_mg,
            is_augmentation_agent=self.is_augmentation_agent,
        )

    def dose_hint(self) -> str:
        if self.min_adequate_dose_mg is None:
            return ""
        return f"adequate ≥ {trd.format_dose(self.min_adequate_dose_mg)} mg/day"

    @property
    def dose_limit_mg(self) -> Decimal:
        if self.max_dose_mg is None:
            return DOSE_SANITY_LIMIT_MG
        return self.max_dose_mg * MAX_DOSE_FACTOR


class Adherence(models.TextChoices):
    GOOD = "good", "Good"
    PARTIAL = "partial", "Partial"
    POOR = trd.POOR_ADHERENCE, "Poor"
    UNKNOWN = "unknown", "Unknown"


def _outcome(value: str) -> tuple[str, str]:
    return value, trd.OUTCOME_LABELS[value]


class Outcome(models.TextChoices):
    """The rule's outcomes (treatments.trd.OUTCOME_LABELS), in its order, as model choices."""

    RESPONSE = _outcome(trd.RESPONSE)
    REMISSION = _outcome(trd.REMISSION)
    PARTIAL_RESPONSE = _outcome(trd.PARTIAL_RESPONSE)
    NO_RESPONSE = _outcome(trd.NO_RESPONSE)
    INTOLERANCE = _outcome(trd.INTOLERANCE)
    ONGOING = _outcome(trd.ONGOING)
    UNKNOWN = _outcome(trd.UNKNOWN_OUTCOME)


class TherapyKind(models.TextChoices):
    ECT = "ect", "ECT (electroconvulsive therapy)"
    TMS = "tms", "TMS (transcranial magnetic stimulation)"
    VNS = "vns", "VNS (vagus nerve stimulation)"
    DBS = "dbs", "DBS (deep brain stimulation)"
    MST = "mst", "MST (magnetic seizure therapy)"
    KETAMINE = "ketamine", "Ketamine"
    ESKETAMINE = "esketamine", "Esketamine"
    PSYCHOTHERAPY = "psychotherapy", "Psychotherapy"
    PSYCHEDELIC_TRIAL = "psychedelic_trial", "Psychedelic trial"
    OTHER = "other", "Other"


class EctPlacement(models.TextChoices):
    RIGHT_UNILATERAL = "right_unilateral", "Right unilateral"
    BITEMPORAL = "bitemporal", "Bitemporal (bilateral)"
    BIFRONTAL = "bifrontal", "Bifrontal (bilateral)"
    UNKNOWN = "unknown", "Not known"


class ClinicalRecordQuerySet(models.QuerySet):
    def active(self):
        return self.filter(deleted_at__isnull=True)


def validate_positive_dose(value):
    if value is not None and value <= 0:
        raise ValidationError("The dose must be greater than 0 mg/day.", code="min_value")


class TrialQuerySet(ClinicalRecordQuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """As save() does, each trial gets its patient's practice when none is given."""
        objs = list(objs)
        for trial in objs:
            trial.set_practice()
        return super().bulk_create(objs, *args, **kwargs)


class Trial(models.Model):
    """One antidepressant (or augmentation) trial of one patient."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="trials")
    # The patient's practice, copied when the trial is created (a patient never changes
    # practice), so that the dashboard counts a practice's trials from one index without
    # joining its patients. Set by save() and bulk_create() from the patient.
    practice = models.ForeignKey(
        "accounts.Practice",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    drug = models.ForeignKey(Drug, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField(validators=[validate_recorded_date])
    end_date = models.DateField(
        null=True, blank=True, help_text="Leave empty while the trial is ongoing."
    )
    dose_mg = models.DecimalField(
        "starting dose (mg/day)",
        max_digits=10,
        decimal_places=3,
        validators=[validate_positive_dose],
    )
    adherence = models.CharField(
        max_length=10, choices=Adherence.choices, default=Adherence.UNKNOWN
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.UNKNOWN)
    reason_stopped = models.CharField(max_length=200, blank=True)
    # A key of treatments/data/formulations.csv for this drug ("weekly", "cr", "transdermal",
    # "oral"); empty for the standard form, whose figures are the catalog's.
    formulation = models.CharField(
        max_length=20,
        blank=True,
        default="",
        help_text="Only for drugs whose forms have their own figures; standard otherwise.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Raised by one with every stored change; a write names the version it read (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)
    # Figures that let SQL follow the TRD rule (treatments/trial_figures.py), stored by
    # treatments.services.refresh_trd_summaries with every write and checked nightly. On any
    # day d on or after the last dose change, the days at an adequate dose are
    # base + max(0, min(d, end_date or d) - since), and enough of them exactly when
    # adequate_on <= d.
    adequate_days_base = models.PositiveIntegerField(default=0, editable=False)
    adequate_days_since = models.DateField(null=True, blank=True, editable=False)
    adequate_on = models.DateField(null=True, blank=True, editable=False)
    counts_as_antidepressant = models.BooleanField(default=False, editable=False)

    objects = TrialQuerySet.as_manager()

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [
            models.Index(fields=["start_date"], name="trial_start_date"),
            # The dashboard's figures of a practice, read from these indexes alone (index-only
            # scans; reports.dashboard). The first, all key columns, is kept small by
            # PostgreSQL's deduplication of equal keys.
            models.Index(
                fields=["practice", "drug", "outcome"],
                name="trial_practice_outcomes",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["practice", "drug"],
                include=[
                    "start_date",
                    "end_date",
                    "adequate_days_base",
                    "adequate_days_since",
                    "adequate_on",
                    "adherence",
                ],
                name="trial_practice_adequate_days",
                condition=Q(deleted_at__isnull=True, counts_as_antidepressant=True),
            ),
            # The patients with a failed antidepressant trial (possible pseudo-resistance).
            models.Index(
                fields=["patient", "outcome"],
                name="trial_patient_antidepressant",
                condition=Q(deleted_at__isnull=True, counts_as_antidepressant=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="trial_end_not_before_start",
            ),
            models.CheckConstraint(condition=Q(dose_mg__gt=0), name="trial_dose_positive"),
        ]

    def __str__(self):
        return f"{self.drug} from {self.start_date}"

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.set_practice()
        super().save(*args, **kwargs)

    def set_practice(self) -> None:
        if self.practice_id is None and self.patient_id is not None:
            self.practice_id = self.patient.practice_id

    def clean(self):
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date cannot be before the start date."
        if self.end_date and self.end_date > today():
            errors["end_date"] = "Cannot be in the future; leave empty while ongoing."
        patient = self.patient if self.patient_id else None
        check_on_or_after_birth(patient, errors, "start_date", self.start_date)
        if self.formulation and self.drug_id and self.formulation_facts is None:
            offered = catalog.formulations_of(self.drug.name)
            errors["formulation"] = (
                f"{self.formulation!r} is not a formulation of {self.drug.name}: "
                + (
                    f"choose {', '.join(repr(f.key) for f in offered)} or leave it standard."
                    if offered
                    else "leave it as the standard formulation."
                )
            )
        elif self.drug_id and self.dose_mg is not None and self.dose_mg > self.dose_limit_mg:
            errors["dose_mg"] = (
                f"{trd.format_dose(self.dose_mg)} {self.dose_unit} is more than {MAX_DOSE_FACTOR}× "
                f"the usual maximum for {self.drug_label}; check the unit ({self.dose_unit})."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def formulation_facts(self) -> catalog.Formulation | None:
        """The trial's formulation from the data file; None for the standard form (or a key
        that does not belong to the drug, which clean() refuses)."""
        if not self.formulation or not self.drug_id:
            return None
        return catalog.formulation(self.drug.name, self.formulation)

    @property
    def drug_label(self) -> str:
        """The drug, with its formulation when one is named: "fluoxetine (weekly capsule …)"."""
        form = self.formulation_facts
        return f"{self.drug.name} ({form.label})" if form else self.drug.name

    @property
    def dose_unit(self) -> str:
        form = self.formulation_facts
        return form.dose_unit if form else "mg/day"

    @property
    def min_adequate_dose_mg(self) -> Decimal | None:
        form = self.formulation_facts
        return form.min_adequate_dose_mg if form else self.drug.min_adequate_dose_mg

    @property
    def max_dose_mg(self) -> Decimal | None:
        """The usual maximum for this trial's formulation (None when the data file gives none
        for it: the standard form's maximum does not apply to another form)."""
        form = self.formulation_facts
        return form.max_dose_mg if form else self.drug.max_dose_mg

    @property
    def dose_limit_mg(self) -> Decimal:
        """Above this a dose is refused as a likely unit error: 10× the usual maximum of the
        formulation, else of the drug's standard form."""
        maximum = self.max_dose_mg if self.max_dose_mg is not None else self.drug.max_dose_mg
        return DOSE_SANITY_LIMIT_MG if maximum is None else maximum * MAX_DOSE_FACTOR

    def dose_hint(self) -> str:
        form = self.formulation_facts
        if form is None:
            return self.drug.dose_hint()
        if not form.is_antidepressant:
            return f"{form.label}: not counted as an antidepressant trial"
        if form.min_adequate_dose_mg is None:
            return f"{form.label}: no published minimum adequate dose"
        return f"{form.label}: adequate ≥ {trd.format_dose(form.min_adequate_dose_mg)} {form.dose_unit}"

    def drug_facts(self) -> trd.DrugFacts:
        """The drug as the TRD rule sees it for this trial: the formulation's minimum adequate
        dose and antidepressant status when a formulation is named (oral selegiline is not an
        antidepressant trial; the weekly fluoxetine capsule is adequate at 90 mg a week)."""
        return catalog.with_formulation(self.drug.facts(), self.formulation)

    @property
    def has_ended(self) -> bool:
        """Ended by today: only then can its scores stand for its outcome."""
        return self.end_date is not None and self.end_date <= today()

    def facts(self, dose_changes=None) -> trd.TrialFacts:
        changes = self.dose_changes.all() if dose_changes is None else dose_changes
        return trd.TrialFacts(
            id=self.pk,
            drug=self.drug_facts(),
            start_date=self.start_date,
            end_date=self.end_date,
            dose_mg=self.dose_mg,
            dose_changes=tuple(trd.DoseChange(c.date, c.dose_mg) for c in changes),
            adherence=self.adherence,
            outcome=self.outcome,
        )


class DoseChange(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="dose_changes")
    date = models.DateField()
    dose_mg = models.DecimalField(
        "new dose (mg/day)", max_digits=10, decimal_places=3, validators=[validate_positive_dose]
    )

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "date"], name="one_dose_change_per_day"),
            models.CheckConstraint(condition=Q(dose_mg__gt=0), name="dose_change_positive"),
        ]

    def __str__(self):
        return f"{self.dose_mg} mg/day from {self.date}"


def validate_dose_changes(trial: Trial, changes: list[tuple]) -> dict[int, str]:
    """Errors by position for (date, dose_mg) changes that do not fit `trial`."""
    errors = {}
    seen = set()
    last_day = trial.end_date or today()
    for index, (date, dose_mg) in enumerate(changes):
        if date is None or dose_mg is None:
            continue
        if trial.start_date and date < trial.start_date:
            errors[index] = "A dose change cannot be before the trial's start date."
        elif date > last_day:
            errors[index] = (
                "A dose change cannot be after the trial's end date."
                if trial.end_date
                else "A dose change cannot be in the future."
            )
        elif date in seen:
            errors[index] = "Only one dose change per day."
        elif trial.drug_id and dose_mg > trial.dose_limit_mg:
            errors[index] = (
                f"{trd.format_dose(dose_mg)} {trial.dose_unit} is more than {MAX_DOSE_FACTOR}× the "
                f"usual maximum for {trial.drug_label}."
            )
        seen.add(date)
    return errors


class Therapy(models.Model):
    """A non-drug or procedural treatment (ECT, TMS, psychotherapy, ketamine, ...)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="therapies"
    )
    kind = models.CharField(max_length=20, choices=TherapyKind.choices)
    detail = models.CharField(
        max_length=100, blank=True, help_text='For example "CBT", "DBT", "ACT" or "IPT".'
    )
    start_date = models.DateField(validators=[validate_recorded_date])
    end_date = models.DateField(null=True, blank=True, validators=[validate_recorded_date])
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.UNKNOWN)
    # ECT only (blank for every other therapy): where the electrodes were placed (bitemporal
    # and bifrontal are bilateral) and how many sessions the course had.
    ect_placement = models.CharField(
        "ECT electrode placement",
        max_length=20,
        choices=EctPlacement.choices,
        blank=True,
        default="",
    )
    ect_sessions = models.PositiveSmallIntegerField(
        "ECT sessions",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ECT_SESSIONS)],
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Raised by one with every stored change; a write names the version it read (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClinicalRecordQuerySet.as_manager()

    class Meta:
        ordering = ["start_date", "id"]
        verbose_name_plural = "therapies"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="therapy_end_not_before_start",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.start_date}"

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})
        errors = {}
        check_on_or_after_birth(
            self.patient if self.patient_id else None, errors, "start_date", self.start_date
        )
        if errors:
            raise ValidationError(errors)
        self.clean_ect_fields()

    def clean_ect_fields(self):
        """An ECT course always has a placement ("not known" when none was given); every other
        therapy has neither a placement nor a session count."""
        if self.kind == TherapyKind.ECT:
            if not self.ect_placement:
                self.ect_placement = EctPlacement.UNKNOWN
            return
        errors = {}
        if self.ect_placement:
            errors["ect_placement"] = "Only for ECT: leave it empty for this therapy."
        if self.ect_sessions is not None:
            errors["ect_sessions"] = "Only for ECT: leave it empty for this therapy."
        if errors:
            raise ValidationError(errors)


class ScoreSource(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    SELF_REPORT = "self_report", "Self-reported"


class ScaleScore(models.Model):
    """One dated rating-scale score of a patient (PHQ-9, HAM-D-17, MADRS)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="scores")
    scale = models.CharField(max_length=10, choices=scales.SCALE_CHOICES)
    date = models.DateField(validators=[validate_recorded_date])
    total = models.PositiveSmallIntegerField()
    items = models.JSONField(default=list, blank=True)
    source = models.CharField(
        max_length=20, choices=ScoreSource.choices, default=ScoreSource.CLINICIAN, editable=False
    )
    # PHQ-9's closing question (how difficult the problems made daily life), 0-3; not scored.
    difficulty = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(3)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Raised by one with every stored change; a write names the version it read (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClinicalRecordQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        indexes = [
            models.Index(fields=["patient", "scale", "date"], name="score_patient_scale_date")
        ]

    def __str__(self):
        return f"{self.get_scale_display()} {self.total} on {self.date}"

    def clean_fields(self, exclude=None):
        # A missing total is the scale rule's to report (clean): its message names the scale,
        # and a PHQ-9's total is then the sum of its items.
        if self.total is None:
            exclude = {*(exclude or ()), "total"}
        super().clean_fields(exclude=exclude)

    def clean(self):
        """The scale's rule (scales.validate) and the date of birth; a valid PHQ-9 without a
        total gets the sum of its items. Without a patient, the scale's rule alone."""
        self.items = list(self.items or [])
        errors = scales.validate(self.scale, self.total, self.items)
        check_on_or_after_birth(
            self.patient if self.patient_id else None, errors, "date", self.date
        )
        if errors:
            raise ValidationError(errors)
        self.total = scales.total_of(self.scale, self.total, self.items)

    def correct(self, changes: dict) -> None:
        """Apply a correction: the fields `changes` names, the others as recorded, except that
        new items without a total get their sum (clean fills it in)."""
        for field, value in changes.items():
            setattr(self, field, value)
        if "items" in changes and "total" not in changes:
            self.total = None

    @property
    def band(self) -> str:
        return scales.band(self.scale, self.total)

    @property
    def suicide_item(self) -> int | None:
        if self.scale != scales.PHQ9 or len(self.items or []) < scales.PHQ9_SUICIDE_ITEM:
            return None
        return self.items[scales.PHQ9_SUICIDE_ITEM - 1]


class Decision(models.TextChoices):
    CONSIDERING = "considering", "Considering"
    CHOSEN = "chosen", "Chosen"
    DECLINED = "declined", "Declined"
    NOT_SUITABLE = "not_suitable", "Not suitable"


DISCUSSION_NOTE_MAX_LENGTH = 2000


class Discussion(models.Model):
    """What was said about one next-line option with the patient, and where it stands then
    (considering, chosen, declined, not suitable). The latest per option is shown beside it."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="discussions"
    )
    option_key = models.CharField(
        "option",
        max_length=50,
        help_text='A key of treatments/data/options.yaml, e.g. "ect" or "augmentation".',
    )
    date = models.DateField(validators=[validate_recorded_date])
    decision = models.CharField(max_length=20, choices=Decision.choices)
    note = models.TextField(
        max_length=DISCUSSION_NOTE_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(DISCUSSION_NOTE_MAX_LENGTH)],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Raised by one with every stored change; a write names the version it read (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClinicalRecordQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["patient", "date"], name="discussion_patient_date")]

    def __str__(self):
        return f"{self.option_key} on {self.date}: {self.get_decision_display()}"

    def clean(self):
        errors = {}
        if self.option_key and self.option_key not in options.OPTION_KEYS:
            errors["option_key"] = (
                f"Unknown option {self.option_key!r}: use one of {', '.join(options.OPTION_KEYS)}."
            )
        check_on_or_after_birth(
            self.patient if self.patient_id else None, errors, "date", self.date
        )
        if errors:
            raise ValidationError(errors)

    @property
    def option_title(self) -> str:
        titles = {option.key: option.title for option in options.load_options()}
        return titles.get(self.option_key, self.option_key)


class SelfReportLink(models.Model):
    """A single-use link by which a patient answers a scale themselves (treatments.self_report).
    Only the SHA-256 of its token is kept: the token is shown once, when the link is made."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="self_report_links"
    )
    scale = models.CharField(max_length=10, choices=[(scales.PHQ9, "PHQ-9")], default=scales.PHQ9)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    score = models.OneToOneField(
        ScaleScore, on_delete=models.PROTECT, null=True, blank=True, related_name="self_report_link"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"self-report link #{self.pk}"

    def is_open(self, now) -> bool:
        return self.used_at is None and now < self.expires_at
