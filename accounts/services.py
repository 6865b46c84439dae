"""Account management: invitations, roles, (de)activation, sign-in help, practice settings.

Each service checks the admin's right, validates, writes and records the audit event in one
transaction. Emails leave only once that transaction has committed.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import client_ip, json_safe, model_changes, record_event

from . import access
from .models import Invitation, Membership, Practice, Role, validate_roles
from .tokens import revoke_api_tokens
from .twofactor import devices as twofactor

User = get_user_model()


# Invitations ------------------------------------------------------------------------------

PENDING, EXPIRED, REVOKED, ACCEPTED = "pending", "expired", "revoked", "accepted"
CLOSED = {ACCEPTED: "accepted", REVOKED: "withdrawn"}  # as the pages say it


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_status(invitation: Invitation, now=None) -> str:
    if invitation.accepted_at is not None:
        return ACCEPTED
    if invitation.revoked_at is not None:
        return REVOKED
    if invitation.expires_at <= (now or timezone.now()):
        return EXPIRED
    return PENDING


INVALID_LINK = "This invitation link is not valid. Check that you copied the whole link."
PROBLEMS = {
    ACCEPTED: "This invitation has already been used. Sign in instead, or ask your practice "
    "admin for a new invitation.",
    REVOKED: "This invitation was withdrawn. Ask your practice admin for a new one.",
    EXPIRED: "This invitation has expired. Ask your practice admin to send it again.",
}


def invitation_for_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("practice").filter(token_hash=token_hash(token)).first()
    )


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why this invitation cannot be accepted, or None if it can."""
    if invitation is None:
        return INVALID_LINK
    return PROBLEMS.get(invitation_status(invitation))


def _new_link(invitation: Invitation) -> str:
    """Give the invitation a fresh token and expiry; return the token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.expires_at = timezone.now() + timedelta(hours=Invitation.VALID_FOR_HOURS)
    return token


def _send_invitation(invitation: Invitation, token: str, request) -> None:
    url = request.build_absolute_uri(reverse("accounts:invitation-accept", args=[token]))
    subject = f"Your invitation to {invitation.practice.name} on TRD Tracker"
    body = render_to_string(
        "accounts/email/invitation.txt",
        {
            "invitation": invitation,
            "url": url,
            "roles": [Role(role).label for role in invitation.roles],
            "invited_by": getattr(invitation.invited_by, "username", ""),
        },
    )
    recipient = invitation.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [recipient]))


def _check_can_invite(practice_id: int, email: str) -> None:
    if Membership.objects.filter(practice_id=practice_id, user__email__iexact=email).exists():
        raise ValidationError({"email": "Someone in this practice already has this email address."})
    open_invitations = Invitation.objects.filter(
        practice_id=practice_id,
        email__iexact=email,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=timezone.now(),
    )
    if open_invitations.exists():
        raise ValidationError(
            {"email": "This address already has an open invitation: re-send that one instead."}
        )


@transaction.atomic
def invitation_create(*, admin, email: str, roles: list[str], request) -> tuple[Invitation, str]:
    """Invite `email` to the admin's practice with `roles`; returns the invitation and token."""
    membership = access.require(admin, access.MANAGE_ACCOUNTS)
    email = User.objects.normalize_email(email.strip())
    _check_can_invite(membership.practice_id, email)
    invitation = Invitation(
        practice=membership.practice, email=email, roles=list(roles), invited_by=admin
    )
    token = _new_link(invitation)
    invitation.full_clean()
    invitation.save()
    record_event(
        actor=admin,
        practice_id=invitation.practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=invitation,
        ip=client_ip(request),
        details={
            "event": "invitation_created",
            "changes": model_changes(
                {}, {"email": email, "roles": invitation.roles, "expires_at": invitation.expires_at}
            ),
        },
    )
    _send_invitation(invitation, token, request)
    return invitation, token


def _lock_invitation(admin, invitation: Invitation) -> Invitation:
    membership = access.require(admin, access.MANAGE_ACCOUNTS)
    locked = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("practice", "invited_by")
        .filter(pk=invitation.pk, practice_id=membership.practice_id)
        .first()
    )
    if locked is None:
        raise PermissionDenied
    return locked


@transaction.atomic
def invitation_resend(*, admin, invitation: Invitation, request) -> tuple[Invitation, str]:
    """Email a new link with a new expiry; the old link stops working."""
    invitation = _lock_invitation(admin, invitation)
    if invitation_status(invitation) in CLOSED:
        raise ValidationError(
            f"This invitation was {CLOSED[invitation_status(invitation)]}: "
            "it cannot be re-sent. Invite the person again instead."
        )
    old_expiry = invitation.expires_at
    token = _new_link(invitation)
    invitation.save(update_fields=["token_hash", "expires_at"])
    record_event(
        actor=admin,
        practice_id=invitation.practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=invitation,
        ip=client_ip(request),
        details={
            "event": "invitation_resent",
            "email": invitation.email,
            "changes": {"expires_at": json_safe([old_expiry, invitation.expires_at])},
        },
    )
    _send_invitation(invitation, token, request)
    return invitation, token


@transaction.atomic
def invitation_revoke(*, admin, invitation: Invitation, ip: str | None = None) -> Invitation:
    """Withdraw an open (or expired) invitation; its link stops working."""
    invitation = _lock_invitation(admin, invitation)
    if invitation_status(invitation) in CLOSED:
        raise ValidationError(
            f"This invitation was {CLOSED[invitation_status(invitation)]} already."
        )
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record_event(
        actor=admin,
        practice_id=invitation.practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=invitation,
        ip=ip,
        details={
            "event": "invitation_revoked",
            "email": invitation.email,
            "changes": {"revoked_at": [None, json_safe(invitation.revoked_at)]},
        },
    )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str, ip: str | None = None):
    """Create the invited user with their membership and mark the invitation used.

    Raises ValidationError: a plain message for a link that cannot be used, or
    {"username": ..., "password": ...} for the choices the invitee can correct.
    """
    invitation = invitation_for_token(token)
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem, code="invitation")
    user = User(username=User.normalize_username(username.strip()), email=invitation.email)
    errors: dict[str, list] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if "username" not in errors and User.objects.filter(username__iexact=user.username).exists():
        errors["username"] = ["This username is taken. Choose another."]
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)

    # Claim the invitation first: of two simultaneous acceptances only one updates the row.
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at=None, revoked_at=None, expires_at__gt=now
    ).update(accepted_at=now)
    if not claimed:
        raise ValidationError(PROBLEMS[ACCEPTED], code="invitation")
    user.set_password(password)
    user.save()
    membership = Membership(user=user, practice=invitation.practice, roles=invitation.roles)
    membership.full_clean()
    membership.save()
    invitation.accepted_at, invitation.accepted_user = now, user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    record_event(
        actor=user,
        practice_id=invitation.practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=invitation,
        ip=ip,
        details={
            "event": "invitation_accepted",
            "changes": {
                "accepted_at": [None, json_safe(now)],
                "accepted_user": [None, user.username],
            },
        },
    )
    record_event(
        actor=user,
        practice_id=invitation.practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=user,
        ip=ip,
        details={
            "event": "user_created",
            "invitation": invitation.pk,
            "changes": model_changes(
                {},
                {
                    "username": user.username,
                    "email": user.email,
                    "roles": membership.roles,
                    "is_active": True,
                },
            ),
        },
    )
    return user


# Members ----------------------------------------------------------------------------------


def _lock_members(admin, member: Membership) -> tuple[Membership, list[Membership]]:
    """The target membership and all of its practice's, locked so the last-admin check holds.

    Raises PermissionDenied unless `admin` manages accounts of the member's practice.
    """
    membership = access.require(admin, access.MANAGE_ACCOUNTS)
    if member.practice_id != membership.practice_id:
        raise PermissionDenied
    members = list(
        Membership.objects.select_for_update()
        .select_related("user", "practice")
        .filter(practice_id=membership.practice_id)
        .order_by("pk")
    )
    target = next((m for m in members if m.pk == member.pk), None)
    if target is None:
        raise PermissionDenied
    return target, members


def _check_not_last_admin(admin, target: Membership, members: list[Membership]) -> None:
    """Refuse to leave the practice without an active practice admin."""
    admins = [m for m in members if m.user.is_active and m.has_role(Role.PRACTICE_ADMIN)]
    if admins == [target]:
        who = "You are" if target.user_id == admin.pk else f"{target.user.username} is"
        raise ValidationError(
            f"{who} the last active practice admin of {target.practice.name}. "
            "Make someone else a practice admin first.",
            code="last_admin",
        )


def _audit_member(admin, target: Membership, ip, event: str, **details) -> None:
    record_event(
        actor=admin,
        practice_id=target.practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=target.user,
        ip=ip,
        details={"event": event, **details},
    )


@transaction.atomic
def member_set_roles(
    *, admin, member: Membership, roles: list[str], ip: str | None = None
) -> Membership:
    target, members = _lock_members(admin, member)
    validate_roles(list(roles))
    new_roles = [role for role in Role.values if role in roles]  # one order everywhere
    old_roles = list(target.roles)
    if set(new_roles) == set(old_roles):
        return target
    if Role.PRACTICE_ADMIN not in new_roles:
        _check_not_last_admin(admin, target, members)
    target.roles = new_roles
    target.full_clean()
    target.save(update_fields=["roles"])
    _audit_member(admin, target, ip, "roles_changed", changes={"roles": [old_roles, new_roles]})
    return target


def end_sessions(user) -> int:
    """Delete the user's database sessions; returns how many there were.

    Decoding every live session is linear in the session table, acceptable at a practice's
    scale. Django's auth middleware also rejects an inactive user's session on its own.
    """
    user_id = str(user.pk)
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == user_id
    ]
    Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


@transaction.atomic
def member_deactivate(*, admin, member: Membership, ip: str | None = None) -> Membership:
    """Block the user: no sign-in, their sessions and API tokens stop working at once."""
    target, members = _lock_members(admin, member)
    user = target.user
    if not user.is_active:
        raise ValidationError(f"{user.username} is already inactive.")
    _check_not_last_admin(admin, target, members)
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens = revoke_api_tokens(user)
    sessions = end_sessions(user)
    _audit_member(
        admin,
        target,
        ip,
        "deactivated",
        changes={"is_active": [True, False]},
        sessions_ended=sessions,
        api_tokens_deleted=tokens,
    )
    return target


@transaction.atomic
def member_reactivate(*, admin, member: Membership, ip: str | None = None) -> Membership:
    target, _ = _lock_members(admin, member)
    user = target.user
    if user.is_active:
        raise ValidationError(f"{user.username} is already active.")
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit_member(admin, target, ip, "reactivated", changes={"is_active": [False, True]})
    return target


@transaction.atomic
def member_reset_two_factor(*, admin, member: Membership, ip: str | None = None) -> Membership:
    """Remove the user's authenticator and recovery codes; they enrol again when required."""
    target, _ = _lock_members(admin, member)
    if not twofactor.has_two_factor(target.user):
        raise ValidationError(
            f"{target.user.username} has not set up two-factor authentication: nothing to reset."
        )
    twofactor.reset_two_factor(target.user, actor=admin, ip=ip)
    # reset_two_factor writes its own "2fa_reset" event, but without the change and, for an
    # inactive user, without the practice; this one is the practice's record of the action.
    _audit_member(admin, target, ip, "two_factor_reset", changes={"two_factor": [True, False]})
    return target


@transaction.atomic
def member_revoke_api_tokens(*, admin, member: Membership, ip: str | None = None) -> int:
    """The practice admin revokes every API token of the member (audited)."""
    target, _ = _lock_members(admin, member)
    revoked = revoke_api_tokens(target.user)
    if not revoked:
        raise ValidationError(f"{target.user.username} has no API tokens.")
    _audit_member(admin, target, ip, "api_tokens_revoked", api_tokens_deleted=revoked)
    return revoked


@transaction.atomic
def member_unlock(*, admin, member: Membership, request) -> Membership:
    """Lift the lock that repeated failed sign-ins put on the user's username."""
    from accounts import signin

    target, _ = _lock_members(admin, member)
    username = target.user.username
    if signin.locked_until(username) is None:
        raise ValidationError(f"{username} is not locked.")
    # The "unlock" event it writes is what the lockout counts from.
    signin.unlock(admin=admin, username=username, request=request)
    return target


class _OneUserPasswordResetForm(PasswordResetForm):
    """Django's reset email for exactly this user, even if other accounts share the address."""

    def __init__(self, user):
        super().__init__({"email": user.email})
        self.user = user

    def get_users(self, email):
        return [self.user]


@transaction.atomic
def member_send_password_reset(*, admin, member: Membership, request) -> Membership:
    """Email the user Django's password reset link (after commit)."""
    target, _ = _lock_members(admin, member)
    user = target.user
    if not user.is_active:
        raise ValidationError(f"{user.username} is inactive: reactivate them first.")
    form = _OneUserPasswordResetForm(user)
    if not form.is_valid():
        raise ValidationError(f"{user.username} has no valid email address to send a link to.")
    _audit_member(admin, target, client_ip(request), "password_reset_sent", email=user.email)
    use_https = request.is_secure()
    transaction.on_commit(lambda: form.save(request=request, use_https=use_https))
    return target


# Practice ---------------------------------------------------------------------------------

SETTINGS_FIELDS = ("require_2fa", "session_idle_minutes")


@transaction.atomic
def practice_update_settings(
    *, admin, require_2fa: bool, session_idle_minutes: int, ip: str | None = None
) -> Practice:
    membership = access.require(admin, access.MANAGE_ACCOUNTS)
    practice = Practice.objects.select_for_update().get(pk=membership.practice_id)
    before = {field: getattr(practice, field) for field in SETTINGS_FIELDS}
    practice.require_2fa = require_2fa
    practice.session_idle_minutes = session_idle_minutes
    practice.full_clean()
    practice.save(update_fields=list(SETTINGS_FIELDS))
    changes = model_changes(before, {field: getattr(practice, field) for field in SETTINGS_FIELDS})
    if changes:
        revoked = 0
        if practice.require_2fa and not before["require_2fa"]:
            # Tokens of members without a second factor were issued without one: they go.
            for member in Membership.objects.filter(practice=practice).select_related("user"):
                if not twofactor.has_two_factor(member.user):
                    revoked += revoke_api_tokens(member.user)
        record_event(
            actor=admin,
            practice_id=practice.pk,
            action=Action.ACCOUNT_CHANGE,
            obj=practice,
            ip=ip,
            details={
                "event": "settings_changed",
                "changes": changes,
                **({"api_tokens_revoked": revoked} if revoked else {}),
            },
        )
    return practice
