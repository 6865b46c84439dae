"""Who may request which export, and see which export job: the exports' door, on top of the
tenancy and roles of accounts.access and the patient scope.

Every kind but the audit log carries clinical data, so it needs the clinical-read right
whatever else the role may do: a practice admin exports the audit log only.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.access import (
    RUN_EXPORTS,
    VIEW_AUDIT,
    VIEW_CLINICAL,
    capabilities_of,
    checked_id,
    membership_of,
    require,
)
from patients.scope import get_patient_for_user

from .models import PATIENT_KINDS, ExportJob, ExportKind


def export_kinds_for(user) -> list[str]:
    """The export kinds the user may request, practice-wide or for one patient."""
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
    if kind in ExportKind.values and kind not in export_kinds_for(user):
        raise PermissionDenied


def authorize_export(user, kind: str, patient_id: int | None):
    """The membership (and patient) for this export; 403 for a role without it, 404 for a
    patient of another practice. Without the export right (clinicians), one patient at a time."""
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
