from . import access


def navigation(request):
    """What the navigation may show: the capabilities of the signed-in user's roles."""
    user = getattr(request, "user", None)
    membership = access.membership_of(user)
    caps = access.capabilities_of(membership)
    return {
        "current_membership": membership,
        "nav": {
            "patients": access.VIEW_CLINICAL in caps,
            "accounts": access.MANAGE_ACCOUNTS in caps,
            "audit": access.VIEW_AUDIT in caps,
            "exports": access.RUN_EXPORTS in caps,
            "dashboard": membership is not None,
        },
    }
