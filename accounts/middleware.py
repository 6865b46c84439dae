import time

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from . import form_recovery, signin
from .access import declared_guard, membership_of


class AccessGuardMiddleware:
    """Deny by default: a view that declares no front door (accounts.access: public_view,
    signed_in_view, practice_view, patient_view, or `access_guard` on a class) answers 403.
    Django's admin site is the one exception: it admits superusers only (trdtracker/urls.py)."""

    ADMIN_NAMESPACE = "admin"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if declared_guard(view_func) is not None:
            return None
        match = request.resolver_match
        if match is not None and match.namespaces[:1] == [self.ADMIN_NAMESPACE]:
            return None
        raise PermissionDenied


class IdleTimeoutMiddleware:
    """Signs a user out after their practice's idle timeout without a request.

    A form posted after that keeps its input for the same user's next sign-in
    (accounts.form_recovery): posted as the session ends, or later from another tab of the
    same browser.

    The time of the last request is stored at most once a minute: storing it on every request
    made every signed-in request save its session row. So the idle clock's granularity is up
    to 60 s: a session ends after the practice's idle minutes counted from a request at most
    59 s before the last one, never later. "Stay signed in" (restart) stores the exact time."""

    SESSION_KEY = "last_activity"
    STORE_EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = membership_of(request.user)
        if membership is not None:
            now = int(time.time())
            last = request.session.get(self.SESSION_KEY)
            if last is not None and now - last > membership.practice.session_idle_minutes * 60:
                user = request.user
                signin.record_signout(request, user, reason="idle_timeout")
                logout(request)
                form_recovery.remember_signed_out(request, user)
                if form_recovery.keep(request, user.pk):
                    messages.info(request, form_recovery.KEPT_MESSAGE)
                else:
                    messages.info(request, "You were signed out after a period of inactivity.")
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= self.STORE_EVERY_SECONDS:
                request.session[self.SESSION_KEY] = last = now
            # For the page's warning (base.html, static/js/session_timeout.js): the clock
            # it counts down from started this many seconds before this request.
            request.idle_clock_age = max(0, now - last)
        return self.get_response(request)

    @classmethod
    def restart(cls, request) -> None:
        """Restart the idle clock now, whenever it was last stored (the keep-alive)."""
        request.session[cls.SESSION_KEY] = int(time.time())

    def process_view(self, request, view_func, view_args, view_kwargs):
        """A form posted from another tab after the idle timeout had signed this browser out
        (CsrfViewMiddleware has checked it by now)."""
        if request.method != "POST" or request.user.is_authenticated:
            return None
        owner = form_recovery.signed_out_user_id(request)
        if not form_recovery.is_restorable(view_func) or not form_recovery.keep(request, owner):
            return None
        messages.info(request, form_recovery.KEPT_MESSAGE)
        return redirect_to_login(request.get_full_path())
