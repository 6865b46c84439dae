from django.db import models


class Action(models.TextChoices):
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"
    LOCKOUT = "lockout"
    ACCOUNT_CHANGE = "account_change"
    EXPORT = "export"


class ImmutableError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("Audit events cannot be changed.")

    def delete(self):
        raise ImmutableError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One immutable row per read or write of a record, written by the code that does it.

    The actor is kept as a username (not a foreign key) so the trail survives
    account changes; `patient_id` is a plain column for the same reason.
    """

    timestamp = models.DateTimeField(auto_now_add=True)
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

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        # Each filter of the audit trail (practice-scoped, newest first) has its own index.
        indexes = [
            models.Index(fields=["practice", "-timestamp", "-id"], name="audit_practice_time"),
            models.Index(
                fields=["practice", "patient_id", "-timestamp", "-id"], name="audit_practice_patient"
            ),
            models.Index(
                fields=["practice", "actor", "-timestamp", "-id"], name="audit_practice_actor"
            ),
            models.Index(
                fields=["practice", "action", "-timestamp", "-id"], name="audit_practice_action"
            ),
            # Sign-in lockout counts recent failures per username.
            models.Index(fields=["actor", "action", "-timestamp"], name="audit_actor_action"),
        ]

    def __str__(self):
        return f"{self.timestamp:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Audit events cannot be deleted.")
