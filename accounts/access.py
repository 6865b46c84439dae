"""The one place where tenancy and role checks live.

Views and API endpoints call these helpers first; nothing else decides who may
see or change what. A user acts inside exactly one practice (their membership),
and their roles grant capabilities.
"""

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


def membership_of(user) -> Membership | None:
    """The active user's membership, or None (anonymous, inactive or practice-less)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
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


def get_trial_for_user(user, patient_id, trial_id, capability: str):
    """The patient and their (not deleted) trial `trial_id`; 404 for any other, 403 without
    the right."""
    from treatments.selectors import active_trials

    patient = get_patient_for_user(user, patient_id, capability)
    trials = active_trials([patient.pk])
    try:
        trial = trials.get(pk=checked_id(trial_id))
    except trials.model.DoesNotExist:
        raise Http404("No such trial.") from None
    trial.patient = patient
    return patient, trial


def get_therapy_for_user(user, patient_id, therapy_id, capability: str):
    """The patient and their (not deleted) therapy `therapy_id`; 404 for any other."""
    from treatments.selectors import active_therapies

    patient = get_patient_for_user(user, patient_id, capability)
    therapies = active_therapies(patient)
    try:
        therapy = therapies.get(pk=checked_id(therapy_id))
    except therapies.model.DoesNotExist:
        raise Http404("No such therapy.") from None
    therapy.patient = patient
    return patient, therapy


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
