from django.db import models


class Action(models.TextChoices):
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKOUT = "lockout"
    ACCOUNT_CHANGE = "account_change"
    EXPORT = "export"


class AuditEvent(models.Model):
    """One immutable row per read or write of a record, written by the code that does it.

    The actor is kept as a username (not a foreign key) so the trail survives
    account changes; `patient_id` is a plain column for the same reason.
    """

    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150, blank=True)
    practice = models.ForeignKey(
        "accounts.Practice", null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["practice", "patient_id", "-timestamp"], name="audit_practice_patient"),
            models.Index(fields=["practice", "actor", "-timestamp"], name="audit_practice_actor"),
            models.Index(fields=["practice", "action", "-timestamp"], name="audit_practice_action"),
        ]

    def __str__(self):
        return f"{self.timestamp:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}"
