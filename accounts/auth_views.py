"""Sign-in and sign-out pages: Django's auth views with lockout and audit events."""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect

from audit.services import client_ip

from . import access, ratelimit, signin


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
