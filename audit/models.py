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
    def about_patients(self, patient_ids):
        """Events about these patients, and the list reads and exports that included them.

        The linked ids are read first so that the planner can OR two index scans (events by
        patient, events by id) instead of walking the whole trail through a subplan."""
        included = list(
            AuditEventPatient.objects.filter(patient_id__in=patient_ids).values_list(
                "event_id", flat=True
            )
        )
        return self.filter(models.Q(patient_id__in=patient_ids) | models.Q(pk__in=included))

    def update(self, **kwargs):
        raise ImmutableError("Audit events cannot be changed.")

    def delete(self):
        raise ImmutableError("Audit events cannot be deleted.")


class InsertOnly(models.Model):
    """Rows of the audit trail: written once, never changed or deleted (the ORM refuses here;
    on PostgreSQL a trigger and the app role's grants refuse too)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Audit events cannot be deleted.")


class AuditEvent(InsertOnly):
    """One immutable row per read or write of a record, written by the code that does it.

    The actor is kept as a username (not a foreign key) so the trail survives
    account changes; `patient_id` is a plain column for the same reason.
    """

    timestamp = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=150, blank=True)
    # No index of its own: every index below starts with the practice.
    practice = models.ForeignKey(
        "accounts.Practice", null=True, on_delete=models.PROTECT, related_name="+", db_index=False
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
                fields=["practice", "patient_id", "-timestamp", "-id"],
                name="audit_practice_patient",
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


class AuditEventPatient(InsertOnly):
    """A patient that one read or export event included (a list page, a list endpoint, an
    export). The event is stored once; each patient it showed is one small row here, so the
    trail can answer "who saw this patient" without an event per patient per request."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="patient_links")
    patient_id = models.BigIntegerField()

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "patient_id"], name="audit_link_unique"),
        ]
        indexes = [models.Index(fields=["patient_id", "event"], name="audit_link_patient")]

    def __str__(self):
        return f"event {self.event_id}: patient {self.patient_id}"
