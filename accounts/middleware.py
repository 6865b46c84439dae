import time

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login

from . import signin
from .access import membership_of


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
