from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from audit.models import AuditEvent
from patients.models import Patient
from treatments.catalog import resolve_drug
from treatments.models import Drug, Therapy, Trial


def dose_field(**kwargs):
    return serializers.DecimalField(
        max_digits=10, decimal_places=3, coerce_to_string=False, **kwargs
    )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    otp = serializers.CharField(max_length=64, required=False, allow_blank=True)


class DrugSerializer(serializers.ModelSerializer):
    min_adequate_dose_mg = dose_field(read_only=True)
    max_dose_mg = dose_field(read_only=True)

    class Meta:
        model = Drug
        fields = ["name", "drug_class", "is_antidepressant", "is_augmentation_agent",
                  "min_adequate_dose_mg", "max_dose_mg", "brand_names",
                  "min_dose_source", "max_dose_source"]


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "identifier", "date_of_birth", "episode_start", "notes"]
        extra_kwargs = {"notes": {"required": False}}
        # Uniqueness within the practice is checked by the model (it knows the practice).
        validators = []


@extend_schema_field(OpenApiTypes.STR)
class DrugNameField(serializers.Field):
    default_error_messages = {
        "unknown": "Unknown drug {value!r}: use a generic or brand name.",
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
        if drug is None:
            self.fail("unknown", value=data)
        return drug


class DoseChangeSerializer(serializers.Serializer):
    date = serializers.DateField()
    dose_mg = dose_field()


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
    dose_mg = dose_field()
    dose_changes = DoseChangeSerializer(many=True, required=False)

    class Meta:
        model = Trial
        fields = ["id", "drug", "start_date", "end_date", "dose_mg", "dose_changes",
                  "adherence", "outcome", "reason_stopped", "notes"]

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            if isinstance(detail, dict) and "dose_changes" in detail:
                detail = {**detail, "dose_changes": flat_messages(detail["dose_changes"])}
                raise serializers.ValidationError(detail) from error
            raise

    def validate_dose_mg(self, value):
        if value <= 0:
            raise serializers.ValidationError("The dose must be greater than 0 mg/day.")
        return value

    def validate_dose_changes(self, value):
        for change in value:
            if change["dose_mg"] <= 0:
                raise serializers.ValidationError("Each new dose must be greater than 0 mg/day.")
        return value


class TherapySerializer(serializers.ModelSerializer):
    class Meta:
        model = Therapy
        fields = ["id", "kind", "detail", "start_date", "end_date", "outcome", "notes"]


class TrdQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)


class TrialEvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="trial.id")
    drug = serializers.CharField(source="trial.drug.name")
    adequate = serializers.BooleanField()
    counts_toward_trd = serializers.BooleanField()
    days_at_adequate_dose = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class TrdEvaluationSerializer(serializers.Serializer):
    meets_trd = serializers.BooleanField()
    failed_adequate_trial_count = serializers.IntegerField()
    as_of = serializers.DateField()
    summary = serializers.CharField()
    trials = TrialEvaluationSerializer(many=True)


class OptionSerializer(serializers.Serializer):
    key = serializers.CharField(source="option.key")
    title = serializers.CharField(source="option.title")
    category = serializers.CharField(source="option.category")
    summary = serializers.CharField(source="option.summary")
    considered_when = serializers.CharField(source="option.considered_when")
    cautions = serializers.ListField(source="option.cautions", child=serializers.CharField())
    already_tried = serializers.BooleanField()
    sources = serializers.ListField(source="option.sources", child=serializers.CharField())


class AuditEventSerializer(serializers.ModelSerializer):
    patient = serializers.IntegerField(source="patient_id", allow_null=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "timestamp", "actor", "action", "object_type", "object_id", "patient",
                  "ip", "details"]
        read_only_fields = fields
