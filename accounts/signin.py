"""Signing in: password check with lockout, and the audit events of sign-in and sign-out.

The lockout is derived from the audit trail itself: 5 failed sign-ins for a username
within 15 minutes lock it for 15 minutes, on the web login and the API token endpoint
alike. A successful sign-in, or an admin's unlock, starts the count afresh.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import authenticate, get_user_model
from django.db.models import Q
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services import client_ip, record_event

from .models import Membership

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)
UNLOCK_EVENT = "unlock"


class SigninLocked(Exception):
    def __init__(self, until: datetime):
        super().__init__(f"locked until {until:%H:%M} UTC")
        self.until = until


class SigninFailed(Exception):
    pass


@dataclass(frozen=True)
class Account:
    username: str
    user: object | None
    practice_id: int | None


def _account(username: str) -> Account:
    user = get_user_model().objects.filter(username=username).first()
    membership = Membership.objects.filter(user=user).first() if user else None
    return Account(username, user, membership.practice_id if membership else None)


def _count_from(username: str) -> datetime:
    """Failures count from the last success or unlock, and never further back than needed."""
    earliest = timezone.now() - LOCKOUT_WINDOW - LOCKOUT_DURATION
    reset = (
        AuditEvent.objects.filter(timestamp__gte=earliest)
        .filter(
            Q(actor=username, action=Action.LOGIN)
            | Q(action=Action.ACCOUNT_CHANGE, details__event=UNLOCK_EVENT,
                details__username=username)
        )
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    return max(earliest, reset) if reset else earliest


def locked_until(username: str) -> datetime | None:
    """When the lock on `username` ends, or None if it is not locked now."""
    failures = list(
        AuditEvent.objects.filter(
            actor=username, action=Action.LOGIN_FAILED, timestamp__gt=_count_from(username)
        )
        .order_by("timestamp")
        .values_list("timestamp", flat=True)
    )
    now = timezone.now()
    for index in range(LOCKOUT_FAILURES - 1, len(failures)):
        if failures[index] - failures[index - LOCKOUT_FAILURES + 1] <= LOCKOUT_WINDOW:
            until = failures[index] + LOCKOUT_DURATION
            if until > now:
                return until
    return None


def check_credentials(request, username: str, password: str, *, channel: str):
    """The user for these credentials, recording the attempt; raises SigninLocked/SigninFailed."""
    account = _account(username)
    ip = client_ip(request)
    until = locked_until(username)
    if until is not None:
        record_event(
            actor=username, practice_id=account.practice_id, action=Action.LOCKOUT,
            obj=account.user, ip=ip,
            details={"event": "attempt_while_locked", "channel": channel,
                     "until": until.isoformat()},
        )
        raise SigninLocked(until)
    user = authenticate(request, username=username, password=password)
    if user is None:
        record_failure(request, username, channel=channel, account=account)
        raise SigninFailed
    return user


def record_failure(request, username: str, *, channel: str, reason: str = "password",
                   account: Account | None = None) -> None:
    """Audit a failed sign-in, and the lockout when this failure starts one."""
    account = account or _account(username)
    ip = client_ip(request)
    record_event(
        actor=username, practice_id=account.practice_id, action=Action.LOGIN_FAILED,
        obj=account.user, ip=ip, details={"channel": channel, "reason": reason},
    )
    until = locked_until(username)
    if until is not None:
        record_event(
            actor=username, practice_id=account.practice_id, action=Action.LOCKOUT,
            obj=account.user, ip=ip,
            details={"event": "locked", "channel": channel, "until": until.isoformat()},
        )


def record_signin(request, user, *, channel: str) -> None:
    record_event(
        actor=user, practice_id=_account(user.username).practice_id, action=Action.LOGIN,
        obj=user, ip=client_ip(request), details={"channel": channel},
    )


def record_signout(request, user, *, reason: str = "sign_out") -> None:
    record_event(
        actor=user, practice_id=_account(user.username).practice_id, action=Action.LOGOUT,
        obj=user, ip=client_ip(request), details={"reason": reason},
    )


def record_password_reset(request, user) -> None:
    record_event(
        actor=user, practice_id=_account(user.username).practice_id,
        action=Action.ACCOUNT_CHANGE, obj=user, ip=client_ip(request),
        details={"event": "password_reset_by_email"},
    )


def unlock(*, admin, username: str, request=None) -> None:
    """An admin lifts the lock on `username` (their own practice's user)."""
    record_event(
        actor=admin, practice_id=_account(username).practice_id, action=Action.ACCOUNT_CHANGE,
        obj=_account(username).user, ip=client_ip(request),
        details={"event": UNLOCK_EVENT, "username": username},
    )


def lock_message(until: datetime) -> str:
    return (
        "This account is locked after repeated failed sign-ins. Try again after "
        f"{timezone.localtime(until):%H:%M} (UTC), or ask your practice admin to unlock it."
    )
