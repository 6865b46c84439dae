from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class Practice(models.Model):
    """The tenant: every patient and every clinical record belongs to exactly one practice."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    PRACTICE_ADMIN = "practice_admin", "Practice admin"
    AUDITOR = "auditor", "Auditor"


def validate_roles(value):
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one role.")
    unknown = sorted(set(value) - set(Role.values))
    if unknown:
        raise ValidationError(f"Unknown role(s): {', '.join(map(str, unknown))}.")
    if len(set(value)) != len(value):
        raise ValidationError("A role is listed twice.")


class Membership(models.Model):
    """A user's place in one practice and the roles they hold there."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="memberships")
    roles = models.JSONField(default=list, validators=[validate_roles])

    class Meta:
        ordering = ["user__username"]

    def __str__(self):
        return f"{self.user} @ {self.practice} ({', '.join(self.roles)})"

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def role_labels(self) -> list[str]:
        return [Role(role).label for role in self.roles]
