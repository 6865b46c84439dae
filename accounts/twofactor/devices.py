"""Two-factor authentication: TOTP authenticator apps plus single-use recovery codes.

A user has two-factor authentication once they hold a confirmed TOTP device. Their
recovery codes live in one StaticDevice named "recovery". Every enrolment, confirmation,
regeneration and reset writes an audit event in the same transaction.
"""

from base64 import b32encode

import segno
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import Action
from audit.services import record_event

from ..access import membership_of
from ..tokens import revoke_api_tokens

AUTHENTICATOR = "authenticator"
RECOVERY = "recovery"
RECOVERY_CODE_COUNT = 10


def confirmed_totp_device(user) -> TOTPDevice | None:
    if user is None or not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def has_two_factor(user) -> bool:
    return confirmed_totp_device(user) is not None


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count()


def needs_enrolment(user) -> bool:
    """The user's practice requires two-factor authentication and they have not set it up."""
    membership = membership_of(user)
    if membership is None or not membership.practice.require_2fa:
        return False
    return not has_two_factor(user)


def pending_device(user, device_id) -> TOTPDevice | None:
    """The user's unconfirmed device `device_id` (as kept in their session), if it still exists."""
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()


@transaction.atomic
def start_enrolment(user, *, ip: str | None = None) -> TOTPDevice:
    """A new unconfirmed authenticator with a fresh secret, replacing any earlier unconfirmed one."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)
    _audit(user, user, "2fa_enrolment_started", ip)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as inline SVG markup (no style attributes, CSP-safe)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, light="#fff", svgclass="totp-qr", title="QR code for your authenticator app"
    )


def secret_base32(device: TOTPDevice) -> str:
    """The secret for typing into an authenticator app by hand, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def confirm_enrolment(user, device: TOTPDevice, code, *, ip: str | None = None) -> list[str] | None:
    """Confirm `device` if `code` is its current code; return new recovery codes, else None.

    A confirmed device replaces any authenticator the user had before. The plain recovery
    codes are returned to be shown once.
    """
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(pk=device.pk, user=user, confirmed=False)
        .first()
    )
    code = normalise(code)
    if device is None or not code.isdigit() or not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _replace_recovery_codes(user)
    _audit(user, user, "2fa_enrolled", ip)
    return codes


@transaction.atomic
def regenerate_recovery_codes(user, code, *, ip: str | None = None) -> list[str] | None:
    """New recovery codes (the old ones stop working) if `code` is the authenticator's current code."""
    code = normalise(code)
    if not code.isdigit() or _verify_totp(user, code) is None:
        return None
    codes = _replace_recovery_codes(user)
    _audit(user, user, "2fa_recovery_codes_regenerated", ip)
    return codes


@transaction.atomic
def verify_second_factor(user, code, *, ip: str | None = None) -> bool:
    """Whether `code` is the authenticator's current code or an unused recovery code.

    A recovery code is consumed. Digits go to the authenticator and anything else to the
    recovery codes, so a mistyped code only counts against (throttles) one device.
    """
    code = normalise(code)
    if not code:
        return False
    if code.isdigit():
        return _verify_totp(user, code) is not None
    if not has_two_factor(user):
        return False
    recovery = StaticDevice.objects.select_for_update().filter(user=user, name=RECOVERY).first()
    # Recovery codes are lower-case base32, which has no 0 or 1: read those as o and l.
    code = code.lower().replace("0", "o").replace("1", "l")
    if recovery is None or not recovery.verify_token(code):
        return False
    _audit(user, user, "2fa_recovery_code_used", ip, remaining=recovery.token_set.count())
    return True


@transaction.atomic
def reset_two_factor(user, *, actor=None, ip: str | None = None) -> None:
    """Remove all the user's devices; they enrol again at their next sign-in if required."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    # Tokens were issued against the old authenticator: they go with it.
    revoke_api_tokens(user)
    _audit(actor or user, user, "2fa_reset", ip)


def normalise(code) -> str:
    """The code as typed, without spaces (authenticator apps show "123 456")."""
    return "".join(str(code or "").split())


def totp_throttled(user) -> bool:
    """After wrong codes django-otp makes the authenticator wait (a doubling delay): while it
    does, even the right code is refused, so the user must be told to wait, not that it is
    wrong."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()
    return device is not None and not device.verify_is_allowed()[0]


def _verify_totp(user, code: str) -> TOTPDevice | None:
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=True)
        .order_by("-id")
        .first()
    )
    if device is None or not device.verify_token(code):
        return None
    return device


def _replace_recovery_codes(user) -> list[str]:
    """Fresh codes in the user's one recovery device (kept, so a session it verified stays)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY)
    device.token_set.all().delete()
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        token = StaticToken.random_token()
        # All-digit codes would be taken for authenticator codes; they are rare, so skip them.
        if not token.isdigit() and token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=t) for t in codes)
    return codes


def _audit(actor, user, event: str, ip: str | None, **details) -> None:
    membership = membership_of(user)
    record_event(
        actor=actor,
        practice_id=membership.practice_id if membership else None,
        action=Action.ACCOUNT_CHANGE,
        obj=user,
        details={"event": event, **details},
        ip=ip,
    )
