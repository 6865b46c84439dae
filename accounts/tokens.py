"""A user's API tokens (django-rest-knox), revoked whenever what issued them changes: the
password, the second factor, the membership."""

from knox.models import AuthToken


def revoke_api_tokens(user) -> int:
    """Delete every API token of the user (they stop working at once); how many there were."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
