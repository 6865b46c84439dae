from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    REVIEW_DUE = "review_due", "Review due"
    SELF_REPORT_DUE = "self_report_due", "Self-report due"
    NO_RECENT_SCORE = "no_recent_score", "No recent score"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One reminder for one clinician about one patient, created by the daily task.

    `event_key` names the event (e.g. "review_due:trial:42:6w"): a recipient holds at most one
    notification per event, so running the task again creates nothing new."""

    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind)
    weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a review: the 4-, 6- or 8-week mark."
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    trial = models.ForeignKey(
        "treatments.Trial", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event_key = models.CharField(max_length=120)
    message = models.CharField(max_length=300)
    due_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="notification_once_per_event"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self):
        return f"{self.event_key} for {self.recipient}"

    @property
    def read(self) -> bool:
        return self.read_at is not None
