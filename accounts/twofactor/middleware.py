from django.http import HttpResponseRedirect, JsonResponse

from . import devices as twofactor
from .views import url_with_next

# Pages a signed-in user may open before passing the second factor. Static files are
# served by WhiteNoise before any URL is resolved, so they never get here.
EXEMPT_NAMESPACES = {"twofactor"}
EXEMPT_VIEWS = {
    ("", "login"),
    ("", "logout"),
    ("api", "token"),
    # Public pages that work without a session: following an emailed link must not be
    # blocked by someone else's half-finished sign-in in the same browser.
    ("accounts", "invitation-accept"),
    ("accounts", "password-reset"),
    ("accounts", "password-reset-done"),
    ("accounts", "password-reset-confirm"),
    ("accounts", "password-reset-complete"),
    # Keeping a session alive on the two-factor pages themselves (it reads nothing).
    ("accounts", "keep-alive"),
}
# The API is token-based and asks for the code when it issues a token, so it is never
# redirected. But DRF also accepts the session cookie, so a session that has not passed
# the second factor gets a 403 there instead of the data.
API_NAMESPACE = "api"


class TwoFactorMiddleware:
    """Sends a signed-in user to the second factor before any other page.

    A user with an authenticator whose session has not passed it goes to
    `twofactor:verify`; a user whose practice requires two-factor authentication and who
    has none goes to `twofactor:setup`. Must come after django_otp's OTPMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified() or self.exempt(request):
            return None
        if twofactor.has_two_factor(user):
            destination = "twofactor:verify"
        elif twofactor.needs_enrolment(user):
            destination = "twofactor:setup"
        else:
            return None
        if request.resolver_match.namespace == API_NAMESPACE:
            return JsonResponse(
                {"detail": "Complete two-factor authentication, or use an API token."},
                status=403,
            )
        return HttpResponseRedirect(url_with_next(destination, request.get_full_path()))

    @staticmethod
    def exempt(request) -> bool:
        match = request.resolver_match
        return (
            match.namespace in EXEMPT_NAMESPACES
            or (match.namespace, match.url_name) in EXEMPT_VIEWS
        )
