from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# Names emergency services generically and promises nothing the practice has not configured.
DEFAULT_CRISIS_TEXT = (
    "If you are thinking about harming yourself or are in danger now, call your local "
    "emergency number or go to the nearest emergency department."
)


class Practice(models.Model):
    """The tenant: every patient and every clinical record belongs to exactly one practice."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    require_2fa = models.BooleanField(
        "require two-factor authentication",
        default=False,
        help_text="Every user of the practice must sign in with an authenticator app code.",
    )
    session_idle_minutes = models.PositiveSmallIntegerField(
        "session idle timeout (minutes)",
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(720)],
        help_text="Users are signed out after this many minutes without activity (5–720).",
    )
    self_report_crisis_text = models.TextField(
        "crisis text after a self-report",
        blank=True,
        max_length=1000,
        help_text="Shown to a patient after they answer a self-report link. Leave blank for the "
        "default, which names emergency services only.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def crisis_text(self) -> str:
        """What a patient reads after a self-report: the practice's text, or the default."""
        return self.self_report_crisis_text.strip() or DEFAULT_CRISIS_TEXT


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


class Invitation(models.Model):
    """A single-use link for a new user of a practice to set their password.

    Only a hash of the token is stored; the token itself exists in the email alone.
    """

    VALID_FOR_HOURS = 72

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    roles = models.JSONField(default=list, validators=[validate_roles])
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invitation for {self.email} to {self.practice}"
