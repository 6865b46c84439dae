from django.http import Http404

from accounts import access

from .models import ImportJob


def get_import_for_scope(scope: access.PracticeScope, pk) -> ImportJob:
    """The practice's job `pk`; 404 for any other (another practice's included)."""
    try:
        return ImportJob.objects.get(practice_id=scope.practice_id, pk=access.checked_id(pk))
    except ImportJob.DoesNotExist:
        raise Http404("No such import.") from None


def imports_of(scope: access.PracticeScope):
    return ImportJob.objects.filter(practice_id=scope.practice_id).select_related("created_by")


def present_patients(scope: access.PracticeScope, job: ImportJob):
    """The practice's patients the job's preview shows as already here: reading the preview
    reads them (their record number, date of birth and diagnosis), so the read is recorded."""
    from patients.models import Patient

    ids = [
        row.get("patient_id")
        for row in (job.preview or {}).get("patients", [])
        if row.get("patient_id")
    ]
    return Patient.objects.filter(practice_id=scope.practice_id, pk__in=ids).only("pk")
