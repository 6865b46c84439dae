"""Removing a clinical record (patient, trial, therapy, score): a confirmation page that asks
why. The reason is checked by audit.services.clean_deletion_reason, the one rule the services
and the API use too, and kept in the removal's audit event."""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from audit.services import DELETION_REASON_MAX_LENGTH, clean_deletion_reason


class RemovalForm(forms.Form):
    reason = forms.CharField(
        label="Why is it removed?",
        max_length=DELETION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: entered for the wrong patient, duplicate entry. It is kept "
        "in the audit trail and shown in the change history.",
    )

    def clean_reason(self):
        try:
            return clean_deletion_reason(self.cleaned_data["reason"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["reason"]) from None


def confirm_removal(
    request, *, what: str, cancel_url: str, remove, done_url: str, done_message: str
):
    """GET: the confirmation page. POST: with a valid reason, `remove(reason)` and redirect;
    without one, the page again with the message."""
    from django.contrib import messages

    form = RemovalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        remove(form.cleaned_data["reason"])
        messages.success(request, done_message)
        return redirect(done_url)
    return render(
        request, "confirm_delete.html", {"what": what, "cancel_url": cancel_url, "form": form}
    )
