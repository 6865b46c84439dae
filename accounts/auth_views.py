"""Sign-in and sign-out pages: Django's auth views with lockout and audit events."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy

from audit.services import client_ip

from . import access, form_recovery, ratelimit, signin


class LockoutAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        try:
            self.user_cache = signin.check_credentials(
                self.request, username, password, channel="web"
            )
        except signin.SigninLocked as locked:
            raise forms.ValidationError(signin.lock_message(locked.until), code="locked") from None
        except signin.SigninFailed:
            raise self.get_invalid_login_error() from None
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginView(auth_views.LoginView):
    access_guard = access.PUBLIC
    form_class = LockoutAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        signin.record_signin(self.request, form.get_user(), channel="web")
        form_recovery.signed_in(self.request, form.get_user())
        return response


class LogoutView(auth_views.LogoutView):
    access_guard = access.PUBLIC

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            signin.record_signout(request, request.user)
        return super().post(request, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    """Asking for a reset link: at most 5 a quarter-hour per client address and 3 an hour per
    e-mail address. Beyond that nothing is sent, and the page says the same as ever (it
    never tells whether an address is known)."""

    access_guard = access.PUBLIC

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        within = ratelimit.allow("reset-ip", client_ip(self.request) or "-", 5, 15 * 60)
        within = ratelimit.allow("reset-email", email, 3, 60 * 60) and within
        if not within:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password from an emailed link is an account change: audit it."""

    access_guard = access.PUBLIC

    def form_valid(self, form):
        response = super().form_valid(form)
        signin.record_password_reset(self.request, form.user)
        return response


class LockoutPasswordChangeForm(PasswordChangeForm):
    """The current password is checked like a sign-in: wrong ones count toward the lockout and
    are audited, so a session left open is no place to guess the password."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            signin.check_credentials(
                self.request, self.user.get_username(), old_password, channel="password_change"
            )
        except signin.SigninLocked as locked:
            raise forms.ValidationError(signin.lock_message(locked.until), code="locked") from None
        except signin.SigninFailed:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ) from None
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    """Your own password, with the current one (Django's view: sign-in required). This session
    stays signed in; other sessions and every API token end (Django's session hash and
    accounts.password_validation)."""

    access_guard = access.SIGNED_IN
    form_class = LockoutPasswordChangeForm
    success_url = reverse_lazy("home")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        signin.record_password_change(self.request, form.user)
        messages.success(
            self.request,
            "Your password was changed. Your API tokens were "
            "revoked and your other sessions signed out.",
        )
        return response
