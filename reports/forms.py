from django import forms

from audit.forms import FILTER_DATE_BOUNDS, AuditFilterForm
from audit.models import Action
from core.dates import range_error
from core.widgets import DateInput
from treatments import trd
from treatments.models import Drug

from .models import PATIENT_KINDS, ExportKind

TRD_STATUS_CHOICES = [
    ("", "Any TRD status"),
    *((status, trd.STATUS_LABELS[status]) for status in (trd.MEETS, trd.NOT_MET)),
]
# The options each kind takes; anything else is dropped before the job is stored.
KIND_OPTIONS = {
    ExportKind.TRIALS_CSV: {"since", "until", "trd_status", "drug_class", "deidentify"},
    ExportKind.TRIALS_XLSX: {"since", "until", "trd_status", "drug_class", "deidentify"},
    ExportKind.TRD_REGISTER_CSV: {"since", "until", "trd_status", "drug_class", "deidentify"},
    ExportKind.AUDIT_CSV: {"since", "until", "patient", "actor", "action"},
    ExportKind.PATIENT_PDF: {"patient", "deidentify"},
    ExportKind.FHIR_BUNDLE: {
        "since",
        "until",
        "trd_status",
        "drug_class",
        "deidentify",
        "patient",
    },
}


def drug_class_choices() -> list[tuple[str, str]]:
    """The catalog's classes, read when the field is validated or drawn (not at import)."""
    classes = Drug.objects.order_by("drug_class").values_list("drug_class", flat=True)
    return [("", "Any class")] + [(c, c) for c in dict.fromkeys(classes)]


class ExportForm(forms.Form):
    """What to export; shared by the Exports page and the API (field errors → 400)."""

    kind = forms.ChoiceField(choices=ExportKind.choices, label="Export")
    since = forms.DateField(
        required=False,
        label="From",
        widget=DateInput(),
        validators=FILTER_DATE_BOUNDS,
        help_text="Trial start dates (event dates for the audit trail).",
    )
    until = forms.DateField(
        required=False, label="Until (inclusive)", widget=DateInput(), validators=FILTER_DATE_BOUNDS
    )
    trd_status = forms.ChoiceField(required=False, choices=TRD_STATUS_CHOICES, label="TRD status")
    drug_class = forms.ChoiceField(
        required=False, label="Drug class", choices=lambda: drug_class_choices()
    )
    patient = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label="Patient id",
        help_text="Required for the PDF; optional for FHIR and audit.",
    )
    actor = forms.CharField(required=False, max_length=150, label="User (audit trail)")
    action = forms.ChoiceField(
        required=False, choices=[("", "Any action"), *Action.choices], label="Action (audit trail)"
    )
    deidentify = forms.BooleanField(
        required=False,
        label="De-identify",
        help_text="Record numbers become per-export pseudonyms; birth dates become years.",
    )

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        since, until = data.get("since"), data.get("until")
        if error := range_error(since, until):
            self.add_error("until", error)
        if not kind:
            return data
        if kind == ExportKind.PATIENT_PDF and not data.get("patient"):
            self.add_error("patient", "Choose the patient for the discussion sheet.")
        if kind == ExportKind.AUDIT_CSV:
            if data.get("deidentify"):
                self.add_error("deidentify", "The audit trail cannot be de-identified.")
            audit = AuditFilterForm(self.data)
            if not audit.is_valid():
                for field, errors in audit.errors.items():
                    if field not in self.errors:
                        for error in errors:
                            self.add_error(field if field in self.fields else None, error)
        elif data.get("patient") and "patient" not in KIND_OPTIONS[kind]:
            self.add_error("patient", "This export covers the practice, not one patient.")
        for field in ("actor", "action"):
            if data.get(field) and field not in KIND_OPTIONS[kind]:
                self.add_error(field, "Only the audit trail export takes this filter.")
        return data

    def options(self) -> dict:
        """The cleaned options this kind uses, JSON-ready (dates ISO, no empty values)."""
        data = self.cleaned_data
        wanted = KIND_OPTIONS[ExportKind(data["kind"])]
        options = {}
        for key in sorted(wanted):
            value = data.get(key)
            if value in (None, "", False):
                continue
            options[key] = value.isoformat() if hasattr(value, "isoformat") else value
        return options

    @property
    def is_patient_kind(self) -> bool:
        return self.cleaned_data.get("kind") in PATIENT_KINDS
