import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models

RETENTION = timedelta(days=7)


class ExportKind(models.TextChoices):
    TRIALS_CSV = "trials_csv", "Trials (CSV)"
    TRIALS_XLSX = "trials_xlsx", "Trials (Excel)"
    TRD_REGISTER_CSV = "trd_register_csv", "TRD register (CSV)"
    AUDIT_CSV = "audit_csv", "Audit trail (CSV)"
    PATIENT_PDF = "patient_pdf", "Patient discussion sheet (PDF)"
    FHIR_BUNDLE = "fhir_bundle", "FHIR R4 bundle (JSON)"


# Kinds a clinician may run, for one patient at a time.
PATIENT_KINDS = frozenset({ExportKind.PATIENT_PDF, ExportKind.FHIR_BUNDLE})


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def new_secret() -> str:
    return secrets.token_hex(32)


class ExportJob(models.Model):
    """One requested export: run by a Celery task, its file kept for RETENTION."""

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # Each enqueue is one attempt; a task carries its attempt number, so a message re-delivered
    # after the job was re-queued (or finished) does nothing.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set when queued and after every chunk: a running job whose heartbeat is stale lost its
    # worker (reports.services.exports_sweep).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    file_deleted = models.BooleanField(default=False)
    # The SHA-256 (hex) of the finished file, so a copy found later can be traced to its export
    # (manage.py verify_export); empty until the job is done.
    sha256 = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    # Keys the de-identification pseudonyms: stable within one export, unlinkable across.
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "-created_at"], name="export_practice_created"),
            models.Index(fields=["status", "expires_at"], name="export_status_expires"),
            models.Index(fields=["status", "heartbeat_at"], name="export_status_heartbeat"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def patient_id(self) -> int | None:
        return self.options.get("patient")

    @property
    def downloadable(self) -> bool:
        return self.status == ExportStatus.DONE and not self.file_deleted and bool(self.file)
