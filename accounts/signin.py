"""Signing in: password check with lockout, and the audit events of sign-in and sign-out.

The lockout is derived from the audit trail itself, on the web login and the API token
endpoint alike, and counts wrong second-factor codes like wrong passwords:

- 5 failures for a username from one client address within 15 minutes lock that username
  from that address for 15 minutes, so an attacker elsewhere cannot keep its owner out;
- 25 failures for a username from any addresses within 15 minutes lock it everywhere and
  alert the practice's admins by e-mail (an attack spread over many addresses).

A successful sign-in, a password reset or an admin's unlock starts the count afresh.
Attempts on one username are serialised (a transaction lock on PostgreSQL), so parallel
guesses cannot all pass the check before any is recorded.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import authenticate, get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services import client_ip, record_event

from .models import Membership, Role

LOCKOUT_FAILURES = 5
LOCKOUT_CEILING = 25  # failures from any addresses that lock a username everywhere
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)
UNLOCK_EVENT = "unlock"
PASSWORD_RESET_EVENT = "password_reset_by_email"
PASSWORD_CHANGE_EVENT = "password_changed"


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
            | Q(
                action=Action.ACCOUNT_CHANGE,
                details__event=UNLOCK_EVENT,
                details__username=username,
            )
            | Q(actor=username, action=Action.ACCOUNT_CHANGE, details__event=PASSWORD_RESET_EVENT)
        )
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    return max(earliest, reset) if reset else earliest


def _lock_end(failures: list[datetime], threshold: int) -> datetime | None:
    """The end of a lock that `threshold` failures within the window started, if any is on."""
    now = timezone.now()
    for index in range(threshold - 1, len(failures)):
        if failures[index] - failures[index - threshold + 1] <= LOCKOUT_WINDOW:
            until = failures[index] + LOCKOUT_DURATION
            if until > now:
                return until
    return None


def lock_state(username: str, ip: str | None) -> tuple[datetime | None, bool]:
    """(when the lock on `username` from `ip` ends or None, whether it is locked everywhere).
    Without an address: locked from any address (what the admins' Users page shows)."""
    failures = list(
        AuditEvent.objects.filter(
            actor=username, action=Action.LOGIN_FAILED, timestamp__gt=_count_from(username)
        )
        .order_by("timestamp")
        .values_list("timestamp", "ip")
    )
    everywhere = _lock_end([when for when, _ in failures], LOCKOUT_CEILING)
    if everywhere is not None:
        return everywhere, True
    addresses = {address for _, address in failures} if ip is None else {ip}
    ends = [
        end
        for address in addresses
        if (end := _lock_end([w for w, a in failures if a == address], LOCKOUT_FAILURES))
    ]
    return (max(ends) if ends else None), False


def locked_until(username: str, ip: str | None = None) -> datetime | None:
    """When the lock on `username` (from `ip`, or from any address) ends, or None."""
    return lock_state(username, ip)[0]


def _serialise_attempts(username: str) -> None:
    """Hold a transaction-long lock on this username's sign-in attempts (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"signin:{username}"])


def check_credentials(request, username: str, password: str, *, channel: str):
    """The user for these credentials, recording the attempt; raises SigninLocked/SigninFailed.

    Check, password and record happen under one lock per username, so of many parallel wrong
    guesses only as many reach the password check as the lockout allows."""
    account = _account(username)
    ip = client_ip(request)
    with transaction.atomic():
        _serialise_attempts(username)
        until = locked_until(username, ip)
        if until is not None:
            record_event(
                actor=username,
                practice_id=account.practice_id,
                action=Action.LOCKOUT,
                obj=account.user,
                ip=ip,
                details={
                    "event": "attempt_while_locked",
                    "channel": channel,
                    "until": until.isoformat(),
                },
            )
            user = None
        else:
            user = authenticate(request, username=username, password=password)
            if user is None:
                record_failure(request, username, channel=channel, account=account)
    if until is not None:
        raise SigninLocked(until)
    if user is None:
        raise SigninFailed
    return user


def record_failure(
    request,
    username: str,
    *,
    channel: str,
    reason: str = "password",
    account: Account | None = None,
) -> None:
    """Audit a failed sign-in, and the lockout when this failure starts one."""
    account = account or _account(username)
    ip = client_ip(request)
    record_event(
        actor=username,
        practice_id=account.practice_id,
        action=Action.LOGIN_FAILED,
        obj=account.user,
        ip=ip,
        details={"channel": channel, "reason": reason},
    )
    until, everywhere = lock_state(username, ip)
    if until is not None:
        record_event(
            actor=username,
            practice_id=account.practice_id,
            action=Action.LOCKOUT,
            obj=account.user,
            ip=ip,
            details={
                "event": "locked",
                "channel": channel,
                "until": until.isoformat(),
                "scope": "all addresses" if everywhere else "this address",
            },
        )
        if everywhere:
            alert_admins(account, until)


def record_signin(request, user, *, channel: str) -> None:
    record_event(
        actor=user,
        practice_id=_account(user.username).practice_id,
        action=Action.LOGIN,
        obj=user,
        ip=client_ip(request),
        details={"channel": channel},
    )


def record_signout(request, user, *, reason: str = "sign_out") -> None:
    record_event(
        actor=user,
        practice_id=_account(user.username).practice_id,
        action=Action.LOGOUT,
        obj=user,
        ip=client_ip(request),
        details={"reason": reason},
    )


def record_password_reset(request, user) -> None:
    """A new password from an e-mailed link lifts the lock (the event is what the lockout reads);
    the API tokens went with the old password (accounts.password_validation)."""
    record_event(
        actor=user,
        practice_id=_account(user.username).practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=user,
        ip=client_ip(request),
        details={"event": PASSWORD_RESET_EVENT},
    )


def record_password_change(request, user) -> None:
    """The user changed their own password on the password page."""
    record_event(
        actor=user,
        practice_id=_account(user.username).practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=user,
        ip=client_ip(request),
        details={"event": PASSWORD_CHANGE_EVENT},
    )


def unlock(*, admin, username: str, request=None) -> None:
    """An admin lifts the lock on `username` (their own practice's user)."""
    record_event(
        actor=admin,
        practice_id=_account(username).practice_id,
        action=Action.ACCOUNT_CHANGE,
        obj=_account(username).user,
        ip=client_ip(request),
        details={"event": UNLOCK_EVENT, "username": username},
    )


def alert_admins(account: Account, until: datetime) -> None:
    """An attack from many addresses locked a username everywhere: tell its practice's admins."""
    if account.practice_id is None:
        return
    members = Membership.objects.filter(
        practice_id=account.practice_id, user__is_active=True
    ).select_related("user")
    admins = [m.user.email for m in members if m.has_role(Role.PRACTICE_ADMIN) and m.user.email]
    send_mail(
        subject="TRD Tracker: an account was locked after sign-in attempts from many addresses",
        message=(
            f"The account {account.username} received {LOCKOUT_CEILING} or more failed sign-ins "
            "from several addresses within 15 minutes and is locked for everyone until "
            f"{timezone.localtime(until):%H:%M} UTC. The audit trail lists the attempts; you can "
            "unlock the account on the Users page once it is safe."
        ),
        from_email=None,
        recipient_list=admins,
        fail_silently=True,
    )


def lock_message(until: datetime) -> str:
    return (
        "This account is locked after repeated failed sign-ins. Try again after "
        f"{timezone.localtime(until):%H:%M} (UTC), or ask your practice admin to unlock it."
    )
