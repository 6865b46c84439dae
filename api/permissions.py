from rest_framework.permissions import BasePermission

from accounts import access


class IsPracticeMember(BasePermission):
    """Signed in, active and part of a practice; finer checks go through accounts.access."""

    def has_permission(self, request, view):
        return access.membership_of(request.user) is not None
