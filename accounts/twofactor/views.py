"""Two-factor pages: enrol an authenticator, verify a sign-in, regenerate recovery codes.

These pages are exempt from TwoFactorMiddleware, so each view checks for itself that a
user who already has two-factor authentication has verified this session before it lets
them change anything.
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from audit.services import client_ip

from .. import access, signin
from . import devices as twofactor

PENDING_DEVICE = "twofactor_pending_device"
WAIT_FOR_CODE = (
    "Too many wrong codes in a row: wait a minute, then type the code your app shows then."
)
WRONG_CODE = (
    "That code is not right. Check that your phone's clock is correct and type the code "
    "your app shows now; after several wrong codes, wait a minute before trying again."
)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class RecoveryCodeForm(forms.Form):
    """Used with prefix="recovery", beside a CodeForm on the same page."""

    code = forms.CharField(
        label="Recovery code",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


def url_with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def safe_next(request) -> str:
    """Where to go afterwards: the `next` of this site, or the start page."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if (
        candidate
        and not candidate.startswith(reverse("twofactor:verify"))
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def mark_verified(request, device) -> None:
    """Record in the session that this user passed the second factor, under a new session key."""
    request.session.cycle_key()
    otp_login(request, device)


def show_codes(request, codes: list[str], *, enrolled: bool):
    """The recovery codes, once: they are in this response only, never in the session."""
    context = {"codes": codes, "enrolled": enrolled, "next": safe_next(request)}
    response = render(request, "accounts/twofactor/recovery_codes.html", context)
    response["Cache-Control"] = "no-store"
    return response


@access.signed_in_view
def setup(request):
    user = request.user
    if twofactor.has_two_factor(user):
        if not user.is_verified():
            return redirect(url_with_next("twofactor:verify", request.get_full_path()))
        if request.method != "POST" and "new" not in request.GET:
            return render(
                request,
                "accounts/twofactor/status.html",
                {
                    "recovery_codes_left": twofactor.recovery_codes_left(user),
                },
            )

    device = twofactor.pending_device(user, request.session.get(PENDING_DEVICE))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if device is None:
            form = CodeForm()
            messages.warning(request, "This setup had expired. Scan the new QR code and try again.")
        elif form.is_valid():
            codes = twofactor.confirm_enrolment(
                user, device, form.cleaned_data["code"], ip=client_ip(request)
            )
            if codes is not None:
                del request.session[PENDING_DEVICE]
                mark_verified(request, device)
                return show_codes(request, codes, enrolled=True)
            form.add_error("code", WRONG_CODE)

    if device is None:
        device = twofactor.start_enrolment(user, ip=client_ip(request))
        request.session[PENDING_DEVICE] = device.pk
    response = render(
        request,
        "accounts/twofactor/setup.html",
        {
            "form": form,
            "qr_svg": twofactor.qr_svg(device),
            "secret": twofactor.secret_base32(device),
            "next": safe_next(request),
            "required": twofactor.needs_enrolment(user),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@access.signed_in_view
def verify(request):
    user = request.user
    next_url = safe_next(request)
    if user.is_verified() or not twofactor.has_two_factor(user):
        return redirect(next_url)

    posted = request.POST if request.method == "POST" else None
    with_recovery = posted is not None and "recovery-code" in posted
    form = CodeForm(None if with_recovery else posted)
    recovery_form = RecoveryCodeForm(posted if with_recovery else None, prefix="recovery")
    used = recovery_form if with_recovery else form
    if posted is not None and used.is_valid():
        if used is form and twofactor.totp_throttled(user):
            used.add_error("code", WAIT_FOR_CODE)
        elif twofactor.verify_second_factor(user, used.cleaned_data["code"], ip=client_ip(request)):
            mark_verified(request, twofactor.confirmed_totp_device(user))
            return redirect(next_url)
        else:
            # A wrong second factor counts toward the sign-in lockout like a wrong password.
            signin.record_failure(request, user.username, channel="web", reason="otp")
            until = signin.locked_until(user.username, client_ip(request))
            if until is not None:
                logout(request)
                messages.error(request, signin.lock_message(until))
                return redirect("login")
            used.add_error(
                "code",
                WRONG_CODE
                if used is form
                else "That recovery code is not valid or has already been used.",
            )
    return render(
        request,
        "accounts/twofactor/verify.html",
        {
            "form": form,
            "recovery_form": recovery_form,
            "with_recovery": with_recovery,
            "next": next_url,
        },
    )


@access.signed_in_view
def recovery_codes(request):
    user = request.user
    if not twofactor.has_two_factor(user):
        return redirect("twofactor:setup")
    if not user.is_verified():
        return redirect(url_with_next("twofactor:verify", request.get_full_path()))

    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.regenerate_recovery_codes(
            user, form.cleaned_data["code"], ip=client_ip(request)
        )
        if codes is not None:
            return show_codes(request, codes, enrolled=False)
        form.add_error("code", WRONG_CODE)
    return render(
        request,
        "accounts/twofactor/recovery_codes_form.html",
        {
            "form": form,
            "recovery_codes_left": twofactor.recovery_codes_left(user),
        },
    )
