import time

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from . import signin
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
    """Signs a user out after their practice's idle timeout without a request."""

    SESSION_KEY = "last_activity"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = membership_of(request.user)
        if membership is not None:
            now = int(time.time())
            last = request.session.get(self.SESSION_KEY)
            if last is not None and now - last > membership.practice.session_idle_minutes * 60:
                signin.record_signout(request, request.user, reason="idle_timeout")
                logout(request)
                messages.info(request, "You were signed out after a period of inactivity.")
                return redirect_to_login(request.get_full_path())
            request.session[self.SESSION_KEY] = now
        return self.get_response(request)
