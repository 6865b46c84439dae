"""Django's admin site, with no side door: superusers only, signed in through the app's own
login (lockout, audit) and with a verified second factor; and read-only, because accounts,
roles and practice settings change through the audited pages and services, never here."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Membership, Practice
from .twofactor import devices as twofactor

admin.site.site_header = "TRD Tracker administration (superusers only, read-only)"


def has_permission(request) -> bool:
    user = request.user
    return user.is_active and user.is_superuser and user.is_verified()


def login(request, extra_context=None):
    """The admin's own login page is not used: the app's login, then the second factor."""
    user = request.user
    next_url = request.GET.get("next") or reverse("admin:index")
    if not user.is_authenticated:
        return redirect_to_login(next_url, login_url=reverse("login"))
    if user.is_superuser and not user.is_verified():
        step = "twofactor:verify" if twofactor.has_two_factor(user) else "twofactor:setup"
        return redirect(f"{reverse(step)}?{urlencode({'next': next_url})}")
    raise PermissionDenied


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.has_permission = has_permission
admin.site.login = login
admin.site.register(Practice, ReadOnlyAdmin)
admin.site.register(Membership, ReadOnlyAdmin)
# Authenticator secrets are nobody's to read, superusers included.
for secret in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(secret):
        admin.site.unregister(secret)
# Everything else registered so far (users, groups, token digests) becomes view-only too.
for model_admin in admin.site._registry.values():
    model_admin.has_add_permission = ReadOnlyAdmin.has_add_permission.__get__(model_admin)
    model_admin.has_change_permission = ReadOnlyAdmin.has_change_permission.__get__(model_admin)
    model_admin.has_delete_permission = ReadOnlyAdmin.has_delete_permission.__get__(model_admin)
