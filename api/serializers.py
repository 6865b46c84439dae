from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from audit.models import AuditEvent
from patients.models import Episode, Patient
from reports.models import ExportKind, ExportStatus
from treatments import measured, scales
from treatments.catalog import find_combination
from treatments.models import Discussion, DoseChange, Drug, ScaleScore, Therapy, Trial
from treatments.options import OPTION_KEYS
from treatments.selectors import resolve_components, resolve_drug

# Doses are JSON numbers (37.5), not strings: set on each model decimal field in extra_kwargs,
# so that the model's validators (validate_positive_dose) stay on the field. No label: the
# schema does not take the model's verbose name as a title.
AS_NUMBER = {"coerce_to_string": False, "label": None}


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    otp = serializers.CharField(max_length=64, required=False, allow_blank=True)


class TokenSerializer(serializers.Serializer):
    """The token is shown once, here; the server keeps only its digest."""

    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class OwnTokenSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The token's first characters, to tell tokens apart.")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.BooleanField(help_text="The token this request was made with.")


class DrugSerializer(serializers.ModelSerializer):
    class Meta:
        model = Drug
        fields = [
            "name",
            "drug_class",
            "is_antidepressant",
            "is_augmentation_agent",
            "min_adequate_dose_mg",
            "max_dose_mg",
            "brand_names",
            "min_dose_source",
            "max_dose_source",
        ]
        extra_kwargs = {
            "min_adequate_dose_mg": {**AS_NUMBER, "read_only": True},
            "max_dose_mg": {**AS_NUMBER, "read_only": True},
        }


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = [
            "id",
            "identifier",
            "date_of_birth",
            "episode_start",
            "diagnosis",
            "psychotic_features",
            "baseline_severity",
            "suicide_risk_flag",
            "self_report_every_weeks",
            "notes",
            "version",
        ]
        extra_kwargs = {"notes": {"required": False}}
        # Uniqueness within the practice is checked by the model (it knows the practice).
        validators = []


@extend_schema_field(OpenApiTypes.STR)
class DrugNameField(serializers.Field):
    default_error_messages = {
        "unknown": "Unknown drug {value!r}: use a generic or brand name.",
        "combination": "{combination}: record each as its own trial or medicine.",
        "null_characters": "Null characters are not allowed.",
    }

    def to_representation(self, drug):
        return drug.name

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("unknown", value=data)
        if "\x00" in data:
            # PostgreSQL cannot even compare a string holding NUL: refuse it before the lookup.
            self.fail("null_characters")
        drug = resolve_drug(data)
        if drug is None and resolve_components(data):
            # A combination brand (Symbyax) holds several drugs: each is recorded on its own.
            self.fail("combination", combination=find_combination(data).describe())
        if drug is None:
            self.fail("unknown", value=data)
        return drug


# A dose change as the model has it: its validators (a new dose above 0) included.
class DoseChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = DoseChange
        fields = ["date", "dose_mg"]
        extra_kwargs = {"dose_mg": AS_NUMBER}


# The API's words for a new dose of 0 or less, which the model's validator refuses.
NEW_DOSE_NOT_POSITIVE = "Each new dose must be greater than 0 mg/day."


def _without_dose_not_positive(errors) -> tuple[dict, bool]:
    """The dose changes' `errors` (by position) less the model's refusal of a dose <= 0 (code
    "min_value" of validate_positive_dose), and whether there was one."""
    if not isinstance(errors, dict):
        return errors, False
    kept, found = {}, False
    for index, change in errors.items():
        if isinstance(change, dict) and "dose_mg" in change:
            others = [m for m in change["dose_mg"] if getattr(m, "code", None) != "min_value"]
            found = found or len(others) < len(change["dose_mg"])
            change = {key: value for key, value in change.items() if key != "dose_mg"}
            if others:
                change["dose_mg"] = others
        if change:
            kept[index] = change
    return kept, found


def dose_change_messages(errors) -> list[str]:
    """The dose changes' errors as plain messages. A new dose of 0 or less is told once, in the
    API's own words, when nothing else is wrong with the changes."""
    kept, not_positive = _without_dose_not_positive(errors)
    messages = flat_messages(kept)
    return messages or ([NEW_DOSE_NOT_POSITIVE] if not_positive else [])


def flat_messages(errors, prefix="") -> list[str]:
    """Nested serializer errors as plain messages, so every field maps to a list of strings."""
    if isinstance(errors, dict):
        messages = []
        for key, value in errors.items():
            if str(key).isdigit():
                label = f"{prefix}dose change {int(key) + 1}: "
            elif key == api_settings.NON_FIELD_ERRORS_KEY:
                label = prefix
            else:
                label = f"{prefix}{key}: "
            messages += flat_messages(value, label)
        return messages
    if isinstance(errors, list):
        messages = []
        for index, value in enumerate(errors):
            if isinstance(value, str):
                messages.append(f"{prefix}{value}")
            elif value:
                messages += flat_messages({str(index): value}, prefix)
        return messages
    return [f"{prefix}{errors}"]


class TrialSerializer(serializers.ModelSerializer):
    drug = DrugNameField()
    dose_changes = DoseChangeSerializer(many=True, required=False)

    class Meta:
        model = Trial
        fields = [
            "id",
            "drug",
            "formulation",
            "start_date",
            "end_date",
            "dose_mg",
            "dose_changes",
            "adherence",
            "outcome",
            "reason_stopped",
            "notes",
            "version",
        ]
        extra_kwargs = {
            "dose_mg": AS_NUMBER,
            "formulation": {
                "help_text": 'A formulation with its own figures ("weekly" for fluoxetine, "cr" for '
                'paroxetine, "transdermal" or "oral" for selegiline); "" (the default) '
                "is the standard form. Checked against the drug.",
            },
        }

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            if isinstance(detail, dict) and "dose_changes" in detail:
                detail = {**detail, "dose_changes": dose_change_messages(detail["dose_changes"])}
                raise serializers.ValidationError(detail) from error
            raise


class TherapySerializer(serializers.ModelSerializer):
    class Meta:
        model = Therapy
        fields = [
            "id",
            "kind",
            "detail",
            "start_date",
            "end_date",
            "outcome",
            "ect_placement",
            "ect_sessions",
            "notes",
            "version",
        ]
        extra_kwargs = {
            "ect_placement": {
                "help_text": 'ECT only: "" for other therapies; for ECT "unknown" '
                "when not given. Bitemporal and bifrontal are "
                "bilateral."
            },
            "ect_sessions": {"help_text": "ECT only: the number of sessions in the course."},
        }


class ScoreSerializer(serializers.ModelSerializer):
    """PHQ-9: the nine items are required and the total is their sum (a total may be sent,
    but must agree). HAM-D-17 and MADRS: the total is required, the items optional."""

    scale = serializers.ChoiceField(choices=scales.SCALE_CHOICES)
    total = serializers.IntegerField(required=False, allow_null=True)
    items = serializers.ListField(child=serializers.IntegerField(), required=False)

    class Meta:
        model = ScaleScore
        # `source` (read-only): "clinician", or "self_report" for a patient's own answers.
        fields = ["id", "scale", "date", "total", "items", "source", "version"]

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            if isinstance(detail, dict) and isinstance(detail.get("items"), dict):
                # Per-item errors as plain messages, so every field maps to a list of strings.
                detail = {
                    **detail,
                    "items": [
                        f"item {int(index) + 1}: {message}"
                        for index, messages in detail["items"].items()
                        for message in messages
                    ],
                }
                raise serializers.ValidationError(detail) from error
            raise

    def validate(self, attrs):
        """The scale's rule is the model's (ScaleScore.clean), checked here on the score as it
        would be stored but without its patient: the service's full_clean checks the date of
        birth after these. A correction (PATCH) keeps what is not sent (ScaleScore.correct)."""
        if self.instance is None:
            score = ScaleScore(**attrs)
        else:
            recorded = self.instance
            score = ScaleScore(
                scale=recorded.scale, total=recorded.total, items=list(recorded.items or [])
            )
            score.correct(attrs)
        try:
            score.clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs


class DeletionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500,
        required=False,
        help_text="Why the record is removed (or `?reason=`). Required: kept in the audit trail.",
    )


class TrdQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)


class TrialEvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="trial.id")
    drug = serializers.CharField(source="trial.drug.name")
    adequate = serializers.BooleanField()
    counts_toward_trd = serializers.BooleanField()
    days_at_adequate_dose = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the clinician should know that does not change the count, e.g. two "
        "counting trials taken together for 28 days or more (a combination).",
    )
    measured_outcome = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.ChoiceField(choices=list(measured.LABELS.items()), allow_null=True)
    )
    def get_measured_outcome(self, item) -> str | None:
        """What the scores show (see treatments.measured): null without a baseline and an end
        score, and while the end score is less than 28 days after the trial's start."""
        result = self.context.get("measured", {}).get(item.trial.id)
        return result.outcome if result else None


class TrdEvaluationSerializer(serializers.Serializer):
    meets_trd = serializers.BooleanField()
    failed_adequate_trial_count = serializers.IntegerField()
    as_of = serializers.DateField()
    summary = serializers.CharField()
    trials = TrialEvaluationSerializer(many=True)


class DiscussionSummarySerializer(serializers.ModelSerializer):
    """An option's latest discussion, as the options list shows it."""

    class Meta:
        model = Discussion
        fields = ["id", "date", "decision", "note"]
        read_only_fields = fields


class OptionSerializer(serializers.Serializer):
    key = serializers.CharField(source="option.key")
    title = serializers.CharField(source="option.title")
    category = serializers.CharField(source="option.category")
    summary = serializers.CharField(source="option.summary")
    considered_when = serializers.CharField(source="option.considered_when")
    cautions = serializers.ListField(source="option.cautions", child=serializers.CharField())
    already_tried = serializers.BooleanField()
    suicide_risk_related = serializers.BooleanField(source="option.suicide_risk_related")
    sources = serializers.ListField(source="option.sources", child=serializers.CharField())
    last_discussion = DiscussionSummarySerializer(
        allow_null=True,
        default=None,
        help_text="The latest recorded discussion of this option with the patient (by date, "
        "then the later entry); null when none is recorded.",
    )


class AuditEventSerializer(serializers.ModelSerializer):
    patient = serializers.IntegerField(source="patient_id", allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "timestamp",
            "actor",
            "action",
            "object_type",
            "object_id",
            "patient",
            "ip",
            "details",
        ]
        read_only_fields = fields


class WarningSerializer(serializers.Serializer):
    """A warning derived from the recorded history (treatments.warnings); stored nowhere."""

    code = serializers.ChoiceField(
        choices=[
            "maoi_serotonergic_overlap",
            "maoi_hypertensive_overlap",
            "maoi_washout_too_short",
            "lamotrigine_interaction",
            "dose_above_maximum",
            "same_class_overlap",
        ]
    )
    severity = serializers.ChoiceField(choices=["high", "moderate", "info"])
    message = serializers.CharField()
    trial_ids = serializers.ListField(child=serializers.IntegerField())
    sources = serializers.ListField(child=serializers.CharField())


class MsmInputSerializer(serializers.Serializer):
    value = serializers.JSONField(
        help_text="Months, the severity category, the number of failed antidepressants, or "
        "whether it was used; null when unknown."
    )
    category = serializers.CharField()
    points = serializers.IntegerField()
    assumed = serializers.BooleanField(
        help_text="Unknown, so its lowest category was used: the score is a lower bound."
    )
    note = serializers.CharField()


class MsmInputsSerializer(serializers.Serializer):
    duration = MsmInputSerializer()
    severity = MsmInputSerializer()
    failed_antidepressants = MsmInputSerializer()
    augmentation = MsmInputSerializer()
    ect = MsmInputSerializer()


class MaudsleySerializer(serializers.Serializer):
    """Maudsley Staging Method (Fekadu et al. 2009), treatments.staging."""

    score = serializers.IntegerField(min_value=3, max_value=15)
    band = serializers.ChoiceField(choices=["mild", "moderate", "severe"])
    inputs = MsmInputsSerializer()


class StagingSerializer(serializers.Serializer):
    """Maudsley Staging Method and Thase–Rush stage (treatments.staging)."""

    maudsley = MaudsleySerializer(
        allow_null=True,
        help_text="Maudsley Staging Method (Fekadu et al. 2009, J Clin Psychiatry 70:177–184); "
        "null when no trial counts toward TRD yet (not staged).",
    )
    thase_rush_stage = serializers.IntegerField(
        min_value=0,
        max_value=5,
        help_text="Thase & Rush 1997: 0 when not even stage I. Classes SSRI, SNRI, TCA (with "
        "tetracyclics), irreversible MAOI, and each other mechanism its own class; "
        "stage V needs a failed bitemporal or bifrontal ECT course.",
    )


class TrdStatusSerializer(TrdEvaluationSerializer, StagingSerializer):
    """The TRD evaluation with the staging (documents the /trd/ answer)."""

    applicable = serializers.BooleanField(
        help_text="False when the recorded diagnosis is outside the TRD definition (bipolar "
        "depression, another diagnosis): `meets_trd` is then false."
    )
    not_applicable_reason = serializers.CharField(allow_null=True)


class ExportAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)


class ExportJobSerializer(ExportAcceptedSerializer):
    """An export's state (documents reports.views.job_status as the API gives it)."""

    kind = serializers.ChoiceField(choices=ExportKind.choices)
    error = serializers.CharField(allow_blank=True)
    download_url = serializers.URLField(allow_null=True)
    sha256 = serializers.CharField(
        allow_null=True, help_text="The SHA-256 (hex) of the finished file; null until done."
    )


class EpisodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Episode
        fields = ["id", "onset", "ended", "version"]


class DiscussionSerializer(serializers.ModelSerializer):
    """A discussion of one next-line option with the patient. `option_key` is a key of the
    options list (GET .../options/ gives them); the model checks it."""

    class Meta:
        model = Discussion
        fields = ["id", "option_key", "date", "decision", "note", "version"]
        extra_kwargs = {
            "option_key": {
                "help_text": "The option discussed: one of "
                + ", ".join(f"`{key}`" for key in OPTION_KEYS)
                + "."
            },
            "note": {"required": False},
        }


class SelfReportLinkRequestSerializer(serializers.Serializer):
    scale = serializers.ChoiceField(choices=[scales.PHQ9], help_text="The scale to ask: phq9.")


class SelfReportLinkCreatedSerializer(serializers.Serializer):
    """The new link, with its address: the only time the address (its token) is given."""

    id = serializers.IntegerField()
    url = serializers.URLField(help_text="The public page the patient opens (single use).")
    expires = serializers.DateTimeField()


class SelfReportLinkSerializer(serializers.Serializer):
    """A link as listed: never its token or address (only the token's hash is kept)."""

    id = serializers.IntegerField()
    scale = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username")
    expires = serializers.DateTimeField(source="expires_at")
    used_at = serializers.DateTimeField(allow_null=True)
    score = serializers.IntegerField(source="score_id", allow_null=True)


class TrdCauseSerializer(serializers.Serializer):
    object_type = serializers.CharField(
        allow_null=True,
        help_text="The kind of record written (`trial`, `patient`, `episode`); "
        "null for a change that came with time.",
    )
    object_id = serializers.IntegerField(allow_null=True)
    action = serializers.CharField(
        help_text="`create`, `update` or `delete` (a write); `time` (an open trial reached its "
        "adequate length, no write); `repair` (the nightly check corrected the "
        "stored summary); `recalculated` (a re-evaluation with no named write)."
    )


class TrdStatusChangeSerializer(serializers.Serializer):
    """One change of the patient's TRD status (as of the day it took effect)."""

    changed_at = serializers.DateTimeField()
    effective_on = serializers.DateField()
    meets_trd = serializers.BooleanField()
    failed_adequate_trial_count = serializers.IntegerField()
    applicable = serializers.BooleanField()
    actor = serializers.SerializerMethodField()
    cause = serializers.SerializerMethodField()
    summary = serializers.CharField(source="cause_summary")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, change) -> str | None:
        return change.actor or None

    @extend_schema_field(TrdCauseSerializer)
    def get_cause(self, change) -> dict:
        object_id = change.cause_object_id
        return {
            "object_type": change.cause_object_type or None,
            "object_id": int(object_id) if object_id.isdigit() else None,
            "action": change.cause_action,
        }
