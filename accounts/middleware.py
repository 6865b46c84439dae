from django.utils.functional import SimpleLazyObject

from .access import membership_of


class MembershipMiddleware:
    """Sets `request.membership` once, lazily, for templates and views."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: membership_of(request.user))
        return self.get_response(request)
