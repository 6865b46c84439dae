"""A password "validator" that is not a rule: Django calls `password_changed()` on each configured
validator once a new password is saved, whatever the path (the password page, a reset link, the
admin site, `manage.py changepassword`). That is the one place that sees them all, so the user's
API tokens are revoked here: a token must not outlive the password that issued it."""


class RevokeApiTokensOnPasswordChange:
    def validate(self, password, user=None):
        return None

    def get_help_text(self):
        return "Changing your password revokes your API tokens."

    def password_changed(self, password, user=None):
        if user is not None and user.pk is not None:
            from .tokens import revoke_api_tokens

            revoke_api_tokens(user)
