from rest_framework.permissions import BasePermission

from accounts import access


class DeclaredAccess(BasePermission):
    """Deny by default: a view must declare its front door (`access_guard`: public, practice
    or patient). Practice and patient views need a member of a practice; the patient scope
    (api.views.PatientScopedView) and the accounts.access helpers narrow it from there."""

    def has_permission(self, request, view):
        guard = getattr(view, "access_guard", None)
        if guard == access.PUBLIC:
            return True
        if guard not in (access.PRACTICE, access.PATIENT):
            return False
        return access.membership_of(request.user) is not None
