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
