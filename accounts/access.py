"""The one place where tenancy and role checks live.

Views and API endpoints call these helpers first; nothing else decides who may
see or change what. A user acts inside exactly one practice (their membership),
and their roles grant capabilities. The doors built on them for one kind of record
live beside that record: the patient scope in patients/scope.py, the exports' in
reports/access.py; this module imports no clinical model.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from audit.models import AuditEvent
from audit.services import client_ip

from .models import Invitation, Membership, Role

VIEW_CLINICAL = "view_clinical"
EDIT_CLINICAL = "edit_clinical"
MANAGE_ACCOUNTS = "manage_accounts"
VIEW_AUDIT = "view_audit"
RUN_EXPORTS = "run_exports"

ROLE_CAPABILITIES = {
    Role.CLINICIAN: frozenset({VIEW_CLINICAL, EDIT_CLINICAL}),
    Role.PRACTICE_ADMIN: frozenset({MANAGE_ACCOUNTS, VIEW_AUDIT, RUN_EXPORTS}),
    Role.AUDITOR: frozenset({VIEW_CLINICAL, VIEW_AUDIT, RUN_EXPORTS}),
}


# Where `user.membership` keeps the membership it loaded (None: the user has none).
_USER_MEMBERSHIP = Membership._meta.get_field("user").remote_field


def membership_of(user) -> Membership | None:
    """The active user's membership, or None (anonymous, inactive or practice-less).

    Loaded once per user object with its practice, in one query (nearly every request reads
    both), and kept where `user.membership` looks first."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not _USER_MEMBERSHIP.is_cached(user):
        try:
            membership = Membership.objects.select_related("practice").get(user_id=user.pk)
        except Membership.DoesNotExist:
            membership = None
        else:
            _USER_MEMBERSHIP.field.set_cached_value(membership, user)
        _USER_MEMBERSHIP.set_cached_value(user, membership)
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def capabilities_of(membership: Membership | None) -> frozenset[str]:
    if membership is None:
        return frozenset()
    granted = set()
    for role in membership.roles:
        granted |= ROLE_CAPABILITIES.get(role, frozenset())
    return frozenset(granted)


def can(user, capability: str) -> bool:
    return capability in capabilities_of(membership_of(user))


def require(user, capability: str) -> Membership:
    """Return the user's membership if it grants `capability`, else raise PermissionDenied."""
    membership = membership_of(user)
    if capability not in capabilities_of(membership):
        raise PermissionDenied
    return membership


def events_visible_to(user):
    """The audit events of the user's own practice (auditors and practice admins)."""
    membership = require(user, VIEW_AUDIT)
    return AuditEvent.objects.filter(practice_id=membership.practice_id)


def dashboard_membership(user) -> Membership:
    """Every role of a practice may see its aggregate figures (no patient appears in them)."""
    membership = membership_of(user)
    if membership is None:
        raise PermissionDenied
    return membership


MAX_ID = 2**63 - 1


def checked_id(value) -> int:
    """An id from a URL as an int the database can hold, or 404."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < number <= MAX_ID:
        raise Http404
    return number


def members_visible_to(user):
    """The memberships of the admin's own practice."""
    membership = require(user, MANAGE_ACCOUNTS)
    return Membership.objects.filter(practice_id=membership.practice_id).select_related("user")


def get_member_for_admin(user, pk) -> Membership:
    """The membership of user `pk` in the admin's own practice; 404 for any other user."""
    members = members_visible_to(user)
    try:
        return members.get(user_id=checked_id(pk))
    except Membership.DoesNotExist:
        raise Http404("No such user.") from None


def invitations_visible_to(user):
    """The invitations of the admin's own practice."""
    membership = require(user, MANAGE_ACCOUNTS)
    return Invitation.objects.filter(practice_id=membership.practice_id)


def get_invitation_for_admin(user, pk) -> Invitation:
    """The invitation `pk` of the admin's own practice; 404 for any other."""
    invitations = invitations_visible_to(user)
    try:
        return invitations.get(pk=checked_id(pk))
    except Invitation.DoesNotExist:
        raise Http404("No such invitation.") from None


# --- The front doors: every URL declares which one it uses (deny by default) --------------
#
# Web views carry `access_guard`, set by the decorators below; API views carry it as a class
# attribute, read by api.permissions.DeclaredAccess. accounts.middleware.AccessGuardMiddleware
# refuses any web view that declares nothing, and tests/test_url_guards.py walks the URL
# resolver to prove it.

PUBLIC, SIGNED_IN, PRACTICE, PATIENT = "public", "signed_in", "practice", "patient"
GUARDS = frozenset({PUBLIC, SIGNED_IN, PRACTICE, PATIENT})
READ_METHODS = frozenset({"GET", "HEAD"})


class PracticeScope:
    """Who acts, in which practice, from where: what a service needs to write and audit.

    Opened for a request by open_practice_scope (the role checked); trusted code without a
    request (demo data, commands) builds one directly."""

    def __init__(self, user, practice, ip: str | None = None):
        self.user, self.practice, self.ip = user, practice, ip

    @property
    def practice_id(self) -> int:
        return self.practice.pk


def open_practice_scope(request, capability: str) -> PracticeScope:
    membership = require(request.user, capability)
    return PracticeScope(request.user, membership.practice, client_ip(request))


def declared_guard(view_func) -> str | None:
    """The front door a URL's view declares (function views, Django and DRF class views)."""
    guard = getattr(view_func, "access_guard", None)
    view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    if guard is None and view_class is not None:
        guard = getattr(view_class, "access_guard", None)
    return guard if guard in GUARDS else None


def declare_guard(view, kind: str):
    """A wrapper declaring the guard (the view itself is left as it was)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        return view(*args, **kwargs)

    guarded.access_guard = kind
    return guarded


def public_view(view):
    """Open to anyone (sign-in, password reset, invitations): the view protects itself."""
    return declare_guard(view, PUBLIC)


def signed_in_view(view):
    """Any signed-in user, with or without a practice (the start page, two-factor set-up)."""
    return declare_guard(login_required(view), SIGNED_IN)


def practice_view(view):
    """A member of a practice; the view narrows it with the helpers above (events_visible_to,
    require...), patients.scope.patients_visible_to or reports.access.jobs_visible_to."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if membership_of(request.user) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return declare_guard(login_required(guarded), PRACTICE)
