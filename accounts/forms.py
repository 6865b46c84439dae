from django import forms
from django.contrib.auth import password_validation

from .models import Practice, Role


def roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="Roles",
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role."},
        help_text="Clinicians see and edit patients; auditors read patients and the audit "
        "trail; practice admins manage accounts and read the audit trail.",
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address")
    roles = roles_field()


class MemberRolesForm(forms.Form):
    roles = roles_field()


class InvitationAcceptForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="What you will sign in with: letters, digits and @ . + - _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_confirm = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords differ.")
        return cleaned


class PracticeSettingsForm(forms.ModelForm):
    session_idle_minutes = forms.IntegerField(
        label="Session idle timeout (minutes)",
        min_value=5,
        max_value=720,
        help_text=Practice._meta.get_field("session_idle_minutes").help_text,
        error_messages={
            "min_value": "Choose at least 5 minutes.",
            "max_value": "Choose at most 720 minutes (12 hours).",
            "required": "Enter a number of minutes between 5 and 720.",
            "invalid": "Enter a whole number of minutes between 5 and 720.",
        },
    )

    class Meta:
        model = Practice
        fields = ["require_2fa", "session_idle_minutes", "self_report_crisis_text"]
        widgets = {"self_report_crisis_text": forms.Textarea(attrs={"rows": 3})}
