"""The patient's own PHQ-9: the public page a link opens, and the clinician's pages that make
and e-mail links. The rules are treatments.self_report's."""

import segno
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts import access, ratelimit
from audit.services import client_ip
from patients.scope import patient_view

from . import self_report
from .forms import PHQ9_ITEM_LABELS

# Answers per client address in a window: a household may share an address, a script may not.
SUBMIT_LIMIT = 10
SUBMIT_WINDOW_SECONDS = 15 * 60

# The PHQ-9's closing question, paraphrased (Kroenke et al. 2001); it is not part of the total.
DIFFICULTY_LABEL = (
    "If you have had any of these problems, how difficult have they made it to "
    "do your work, look after things at home or get along with other people?"
)
ITEM_ANSWERS = [
    ("0", "Not at all"),
    ("1", "Several days"),
    ("2", "More than half the days"),
    ("3", "Nearly every day"),
]
DIFFICULTY_ANSWERS = [
    ("0", "Not difficult at all"),
    ("1", "Somewhat difficult"),
    ("2", "Very difficult"),
    ("3", "Extremely difficult"),
]


class SelfReportForm(forms.Form):
    """The nine PHQ-9 items and the difficulty question, each a row of radio buttons."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number, label in enumerate(PHQ9_ITEM_LABELS, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=label,
                choices=ITEM_ANSWERS,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Please choose an answer.",
                    "invalid_choice": "Please choose one of the answers.",
                },
            )
        self.fields["difficulty"] = forms.TypedChoiceField(
            label=DIFFICULTY_LABEL,
            choices=DIFFICULTY_ANSWERS,
            coerce=int,
            widget=forms.RadioSelect,
            error_messages={
                "required": "Please choose an answer.",
                "invalid_choice": "Please choose one of the answers.",
            },
        )

    def item_fields(self):
        return [self[f"item_{number}"] for number in range(1, len(PHQ9_ITEM_LABELS) + 1)]

    def items(self) -> list[int]:
        return [self.cleaned_data[f"item_{n}"] for n in range(1, len(PHQ9_ITEM_LABELS) + 1)]


def _plain(request, template: str, status: int, context: dict | None = None):
    return render(request, f"treatments/self_report/{template}", context or {}, status=status)


@access.public_view
def self_report_page(request, token):
    """/r/<token>/: the questions, once. Unknown, used and expired links alike answer 410."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    if request.method == "POST" and not ratelimit.allow(
        "self-report-ip", client_ip(request) or "-", SUBMIT_LIMIT, SUBMIT_WINDOW_SECONDS
    ):
        return _plain(request, "limited.html", 429)
    try:
        link = self_report.find_open(token)
    except self_report.LinkGone:
        return _plain(request, "gone.html", 410)
    form = SelfReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            self_report.submit(
                token=token,
                items=form.items(),
                difficulty=form.cleaned_data["difficulty"],
                ip=client_ip(request),
            )
        except self_report.LinkGone:
            return _plain(request, "gone.html", 410)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _plain(
                request, "thanks.html", 200, {"crisis_text": link.patient.practice.crisis_text}
            )
    return _plain(request, "form.html", 400 if form.is_bound else 200, {"form": form})


def qr_svg(url: str) -> str:
    """The URL as an inline SVG QR code (segno writes no style attribute: CSP-safe)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, title="QR code of the link")
    return mark_safe(svg)  # segno's own markup; the URL is ours


def _created_page(request, scope, link, token, email_form=None, status=200):
    url = request.build_absolute_uri(self_report.public_path(token))
    return render(
        request,
        "treatments/self_report/created.html",
        {
            "patient": scope.patient,
            "link": link,
            "token": token,
            "url": url,
            "qr": qr_svg(url),
            "email_form": email_form or EmailLinkForm(initial={"link": link.pk, "token": token}),
        },
        status=status,
    )


class EmailLinkForm(forms.Form):
    email = forms.EmailField(label="Patient's e-mail address", max_length=254)
    link = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=access.MAX_ID)
    token = forms.CharField(widget=forms.HiddenInput, max_length=100)


@patient_view(access.EDIT_CLINICAL, page="self-report-link-create")
@require_POST
def link_create(request, scope):
    """Make a PHQ-9 link and show it this once (its token is not stored)."""
    link, token = self_report.link_create(scope=scope)
    return _created_page(request, scope, link, token)


@patient_view(access.EDIT_CLINICAL, page="self-report-link-email")
@require_POST
def link_email(request, scope):
    form = EmailLinkForm(request.POST)
    if not form.is_valid():
        link = self_report.SelfReportLink.objects.filter(
            patient=scope.patient,
            pk=form.cleaned_data.get("link") or 0,
            token_hash=self_report.hash_token(request.POST.get("token", "")),
        ).first()
        if link is None:
            messages.error(request, "That link can no longer be sent: create a new one.")
            return redirect(f"{scope.patient.get_absolute_url()}#self-report")
        return _created_page(request, scope, link, request.POST["token"], form, status=400)
    token = form.cleaned_data["token"]
    try:
        self_report.link_email(
            scope=scope,
            link_id=form.cleaned_data["link"],
            token=token,
            email=form.cleaned_data["email"],
            url=request.build_absolute_uri(self_report.public_path(token)),
        )
    except self_report.LinkGone:
        messages.error(request, "That link can no longer be sent: create a new one.")
    else:
        messages.success(request, f"PHQ-9 link sent to {form.cleaned_data['email']}.")
    return redirect(f"{scope.patient.get_absolute_url()}#self-report")
