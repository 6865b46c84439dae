from django.conf import settings
from django.core.cache import cache
from django.db import models

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ImportKind(models.TextChoices):
    CSV = "csv", "Trials CSV"
    FHIR = "fhir", "FHIR R4 bundle (JSON)"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PREVIEWING = "previewing", "Building the preview"
    READY = "ready", "Ready to confirm"
    CONFIRMING = "confirming", "Creating the records"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def live_progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


class ImportJob(models.Model):
    """One uploaded file: previewed by a Celery task (nothing saved), then, once a clinician
    confirms, its records created through the services in one transaction."""

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    # The upload, kept only until its preview is built (the confirm works from the preview).
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    filename = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(default=0)
    # Each enqueue is one attempt; a re-delivered message for an older attempt does nothing.
    attempts = models.PositiveSmallIntegerField(default=0)
    # {"counts": {...}, "patients": [...], "trials": [...], "scores": [...], "unmatched": [...]}
    preview = models.JSONField(default=dict, blank=True)
    # What the confirm created: {"patients": n, "trials": n, "scores": n}.
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Where the upload came from: the confirm's audit events name the same address.
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "-created_at"], name="import_practice_created")]

    def __str__(self):
        return f"Import #{self.pk} ({self.kind}, {self.status})"

    @property
    def live_progress(self) -> int:
        """The progress as the worker last reported it: while the records are created in one
        transaction, the row's own progress is not visible to readers until it commits, so
        the worker also reports it in the cache (Redis in production)."""
        if self.status == "confirming":
            return max(self.progress, cache.get(live_progress_key(self.pk)) or 0)
        return self.progress
