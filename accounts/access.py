"""The one place where tenancy and role checks live.

Views and API endpoints call these helpers first; nothing else decides who may
see or change what. A user acts inside exactly one practice (their membership),
and their roles grant capabilities.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

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


def patients_visible_to(user, capability: str = VIEW_CLINICAL):
    """The patients of the user's practice that are not deleted."""
    from patients.models import Patient

    membership = require(user, capability)
    return Patient.objects.active().filter(practice_id=membership.practice_id)


def get_patient_for_user(user, pk, capability: str = VIEW_CLINICAL):
    """The patient `pk` of the user's own practice; 404 for any other, 403 without the right.

    The role is checked first so that a user without clinical access learns nothing
    about which ids exist.
    """
    patients = patients_visible_to(user, capability)
    try:
        return patients.get(pk=checked_id(pk))
    except patients.model.DoesNotExist:
        raise Http404("No such patient.") from None


def events_visible_to(user):
    """The audit events of the user's own practice (auditors and practice admins)."""
    from audit.models import AuditEvent

    membership = require(user, VIEW_AUDIT)
    return AuditEvent.objects.filter(practice_id=membership.practice_id)


def dashboard_membership(user) -> Membership:
    """Every role of a practice may see its aggregate figures (no patient appears in them)."""
    membership = membership_of(user)
    if membership is None:
        raise PermissionDenied
    return membership


# Exports. Every kind but the audit log carries clinical data, so it needs the clinical-read
# right whatever else the role may do: a practice admin exports the audit log only.


def export_kinds_for(user) -> list[str]:
    """The export kinds the user may request, practice-wide or for one patient."""
    from reports.models import ExportKind

    capabilities = capabilities_of(membership_of(user))
    kinds = []
    for kind in ExportKind:
        if kind == ExportKind.AUDIT_CSV:
            allowed = {RUN_EXPORTS, VIEW_AUDIT} <= capabilities
        else:
            allowed = VIEW_CLINICAL in capabilities
        if allowed:
            kinds.append(kind.value)
    return kinds


def require_export_kind(user, kind) -> None:
    """403 for a known kind the user may not request (checked before the options are)."""
    from reports.models import ExportKind

    if kind in ExportKind.values and kind not in export_kinds_for(user):
        raise PermissionDenied


def authorize_export(user, kind: str, patient_id: int | None):
    """The membership (and patient) for this export; 403 for a role without it, 404 for a
    patient of another practice. Without the export right (clinicians), one patient at a time."""
    from reports.models import PATIENT_KINDS

    membership = membership_of(user)
    capabilities = capabilities_of(membership)
    require_export_kind(user, kind)
    if RUN_EXPORTS not in capabilities and (kind not in PATIENT_KINDS or not patient_id):
        raise PermissionDenied
    patient = None
    if patient_id and kind in PATIENT_KINDS:
        patient = get_patient_for_user(user, patient_id, VIEW_CLINICAL)
    return membership, patient


def jobs_visible_to(user):
    """Exporters see the practice's jobs of the kinds they may request; clinicians their own."""
    from reports.models import ExportJob

    membership = membership_of(user)
    capabilities = capabilities_of(membership)
    if RUN_EXPORTS in capabilities:
        return ExportJob.objects.filter(
            practice_id=membership.practice_id, kind__in=export_kinds_for(user)
        )
    require(user, VIEW_CLINICAL)
    return ExportJob.objects.filter(practice_id=membership.practice_id, created_by=user)


def get_job_for_user(user, pk):
    """The job `pk` if the user may see it; 404 for any other (another practice included)."""
    jobs = jobs_visible_to(user)
    try:
        return jobs.get(pk=checked_id(pk))
    except jobs.model.DoesNotExist:
        raise Http404("No such export.") from None


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
    from audit.services import client_ip

    membership = require(request.user, capability)
    return PracticeScope(request.user, membership.practice, client_ip(request))


class PatientScope:
    """One request's way into one patient: role and practice checked when it opens, the
    patient's trials, therapies and scores reached only through it, and, for a read that
    showed something, the one `view` event of the request written when it closes. Services
    receive it (the patient, who acts, from where) and take their "before" state themselves.

    Trusted code without a request (demo data, commands) uses PatientScope.trusted."""

    def __init__(
        self,
        user,
        patient,
        *,
        ip: str | None = None,
        reading: bool = False,
        details: dict | None = None,
    ):
        self.user, self.patient, self.ip = user, patient, ip
        self.reading = reading
        self.details = details or {}
        self.shown = None  # the trial or therapy a detail read showed
        self.closed = False

    @classmethod
    def trusted(cls, user, patient) -> "PatientScope":
        return cls(user, patient)

    @property
    def practice_id(self) -> int:
        return self.patient.practice_id

    def trials(self):
        from treatments.selectors import active_trials

        return active_trials([self.patient.pk])

    def therapies(self):
        from treatments.selectors import active_therapies

        return active_therapies(self.patient)

    def scores(self):
        from treatments.selectors import active_scores

        return active_scores(self.patient)

    def trial(self, pk):
        return self._one(self.trials(), pk, "trial")

    def therapy(self, pk):
        return self._one(self.therapies(), pk, "therapy")

    def score(self, pk):
        return self._one(self.scores(), pk, "score")

    def episodes(self):
        return self.patient.episodes.active().order_by("onset", "id")

    def discussions(self):
        from treatments.selectors import active_discussions

        return active_discussions(self.patient)

    def discussion(self, pk):
        return self._one(self.discussions(), pk, "discussion")

    def episode(self, pk):
        return self._one(self.episodes(), pk, "episode")

    def self_report_links(self):
        """The patient's self-report links, newest first (their tokens are not stored)."""
        return self.patient.self_report_links.select_related("created_by").order_by(
            "-created_at", "-id"
        )

    def _one(self, queryset, pk, name):
        try:
            record = queryset.get(pk=checked_id(pk))
        except queryset.model.DoesNotExist:
            raise Http404(f"No such {name}.") from None
        record.patient = self.patient
        self.shown = record
        return record

    def close(self, response) -> None:
        """Record the read once, if it showed the patient's data (no event for an error)."""
        from audit.models import Action
        from audit.services import record_event

        if self.closed or not self.reading or response.status_code >= 400:
            return
        self.closed = True
        record_event(
            actor=self.user,
            practice_id=self.practice_id,
            action=Action.VIEW,
            obj=self.shown or self.patient,
            patient_id=self.patient.pk,
            ip=self.ip,
            details=self.details,
        )


def record_list_read(request, patients, details: dict) -> None:
    """A page or endpoint that listed patients: one `view` event naming each patient shown."""
    from audit.models import Action
    from audit.services import client_ip, record_event

    shown = [patient.pk for patient in patients]
    if not shown:
        return
    record_event(
        actor=request.user,
        practice_id=membership_of(request.user).practice_id,
        action=Action.VIEW,
        ip=client_ip(request),
        patients=shown,
        details={**details, "patients": len(shown)},
    )


def open_patient_scope(request, patient_id, capability: str, details: dict) -> PatientScope:
    """404 for another practice's (or no) patient, 403 without `capability` (checked first)."""
    from audit.services import client_ip

    patient = get_patient_for_user(request.user, patient_id, capability)
    return PatientScope(
        request.user,
        patient,
        ip=client_ip(request),
        reading=request.method in READ_METHODS,
        details=details,
    )


def declared_guard(view_func) -> str | None:
    """The front door a URL's view declares (function views, Django and DRF class views)."""
    guard = getattr(view_func, "access_guard", None)
    view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    if guard is None and view_class is not None:
        guard = getattr(view_class, "access_guard", None)
    return guard if guard in GUARDS else None


def _guard(view, kind: str):
    """A wrapper declaring the guard (the view itself is left as it was)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        return view(*args, **kwargs)

    guarded.access_guard = kind
    return guarded


def public_view(view):
    """Open to anyone (sign-in, password reset, invitations): the view protects itself."""
    return _guard(view, PUBLIC)


def signed_in_view(view):
    """Any signed-in user, with or without a practice (the start page, two-factor set-up)."""
    from django.contrib.auth.decorators import login_required

    return _guard(login_required(view), SIGNED_IN)


def practice_view(view):
    """A member of a practice; the view narrows it with the helpers above (patients_visible_to,
    events_visible_to, jobs_visible_to, require...)."""
    from django.contrib.auth.decorators import login_required

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if membership_of(request.user) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return _guard(login_required(guarded), PRACTICE)


def patient_view(capability: str, *, kwarg: str = "patient_id", page: str | None = None):
    """A page about one patient: the view receives the opened PatientScope instead of the id."""
    from django.contrib.auth.decorators import login_required

    def decorate(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            scope = open_patient_scope(
                request, kwargs.pop(kwarg), capability, {"page": page or view.__name__}
            )
            response = view(request, scope, *args, **kwargs)
            scope.close(response)
            return response

        return _guard(login_required(guarded), PATIENT)

    return decorate
