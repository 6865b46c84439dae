"""The practice admin's pages (users, invitations, practice settings) and the public page
where an invitee accepts their invitation.

Every admin view starts with the access helper; each action URL shows a confirmation page
on GET and acts on POST.
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from audit.models import Action, AuditEvent
from audit.services import client_ip
from treatments import self_report

from . import access, ratelimit, services
from .forms import InvitationAcceptForm, InvitationForm, MemberRolesForm, PracticeSettingsForm
from .models import Invitation, Practice, Role

INVITATIONS_PER_PAGE = 50


def _posted(request):
    """The submitted data, or None for a GET (an empty POST is still a submission)."""
    return request.POST if request.method == "POST" else None


def _run(request, action, success: str) -> bool:
    """Call `action`; report its ValidationError or `success` as a message."""
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, success)
    return True


def _confirm(request, *, title: str, text: str, button: str, cancel_url: str, danger=False):
    return render(
        request,
        "accounts/confirm_action.html",
        {
            "title": title,
            "text": text,
            "button": button,
            "cancel_url": cancel_url,
            "danger": danger,
        },
    )


# Users ------------------------------------------------------------------------------------


@access.practice_view
def member_list(request):
    members = access.members_visible_to(request.user).order_by("user__username")
    from accounts.twofactor import devices as twofactor

    rows = [(member, twofactor.has_two_factor(member.user)) for member in members]
    open_invitations = (
        access.invitations_visible_to(request.user)
        .filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())
        .count()
    )
    return render(
        request, "accounts/member_list.html", {"rows": rows, "open_invitations": open_invitations}
    )


@access.practice_view
def member_detail(request, pk):
    member = access.get_member_for_admin(request.user, pk)
    from accounts import signin
    from accounts.twofactor import devices as twofactor

    form = MemberRolesForm(_posted(request), initial={"roles": member.roles})
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_set_roles(
                admin=request.user,
                member=member,
                roles=form.cleaned_data["roles"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"Roles of {member.user.username}: {', '.join(member.role_labels())}."
            )
            if member.user_id == request.user.pk and not member.has_role(Role.PRACTICE_ADMIN):
                return redirect("home")
            return redirect("accounts:member-detail", pk=member.user_id)
    events = [
        (
            event,
            str(event.details.get("event", event.action)).replace("_", " "),
            change_lines(event.details),
        )
        for event in AuditEvent.objects.filter(
            practice_id=member.practice_id,
            action=Action.ACCOUNT_CHANGE,
            object_type="user",
            object_id=str(member.user_id),
        )[:10]
    ]
    return render(
        request,
        "accounts/member_detail.html",
        {
            "member": member,
            "form": form,
            "two_factor": twofactor.has_two_factor(member.user),
            "locked_until": signin.locked_until(member.user.username),
            "events": events,
            "api_tokens": AuthToken.objects.filter(
                user=member.user, expiry__gt=timezone.now()
            ).count(),
            "is_self": member.user_id == request.user.pk,
        },
    )


def _shown(value) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def change_lines(details: dict) -> list[str]:
    """An audit event's changes as "field: old → new" lines."""
    return [
        f"{field.replace('_', ' ')}: {_shown(old)} → {_shown(new)}"
        for field, (old, new) in (details.get("changes") or {}).items()
    ]


def _detail_url(member) -> str:
    return reverse("accounts:member-detail", args=[member.user_id])


@access.practice_view
def member_deactivate(request, pk):
    member = access.get_member_for_admin(request.user, pk)
    name = member.user.username
    if request.method != "POST":
        return _confirm(
            request,
            title=f"Deactivate {name}?",
            danger=True,
            cancel_url=_detail_url(member),
            text=f"{name} is signed out everywhere at once, their API tokens stop working and "
            "they cannot sign in until an admin reactivates them. Their records and the audit "
            "trail stay as they are.",
            button=f"Deactivate {name}",
        )
    done = _run(
        request,
        lambda: services.member_deactivate(
            admin=request.user, member=member, ip=client_ip(request)
        ),
        f"{name} is deactivated: signed out everywhere and their API tokens are revoked.",
    )
    if done and member.user_id == request.user.pk:
        # The service deleted this very session; start a clean one for the sign-in page.
        logout(request)
        return redirect("login")
    return redirect(_detail_url(member))


@access.practice_view
def member_reactivate(request, pk):
    member = access.get_member_for_admin(request.user, pk)
    name = member.user.username
    if request.method != "POST":
        return _confirm(
            request,
            title=f"Reactivate {name}?",
            cancel_url=_detail_url(member),
            text=f"{name} can sign in again with their password. API tokens revoked on "
            "deactivation stay revoked.",
            button=f"Reactivate {name}",
        )
    _run(
        request,
        lambda: services.member_reactivate(
            admin=request.user, member=member, ip=client_ip(request)
        ),
        f"{name} is active again and can sign in.",
    )
    return redirect(_detail_url(member))


@access.practice_view
def member_reset_two_factor(request, pk):
    member = access.get_member_for_admin(request.user, pk)
    name = member.user.username
    if request.method != "POST":
        return _confirm(
            request,
            title=f"Reset two-factor authentication of {name}?",
            danger=True,
            cancel_url=_detail_url(member),
            text=f"{name}'s authenticator app and recovery codes stop working. If the practice "
            "requires two-factor authentication, they set up a new authenticator at their "
            "next sign-in. Do this only after checking who is asking, for example in person.",
            button="Reset two-factor authentication",
        )
    _run(
        request,
        lambda: services.member_reset_two_factor(
            admin=request.user, member=member, ip=client_ip(request)
        ),
        f"Two-factor authentication of {name} is reset.",
    )
    return redirect(_detail_url(member))


@access.practice_view
def member_unlock(request, pk):
    member = access.get_member_for_admin(request.user, pk)
    name = member.user.username
    if request.method != "POST":
        return _confirm(
            request,
            title=f"Unlock {name}?",
            cancel_url=_detail_url(member),
            text=f"{name} is locked out after repeated failed sign-ins. Unlocking lets them try "
            "again at once. If they did not make those attempts themselves, someone may be "
            "guessing their password: send them a password reset instead.",
            button=f"Unlock {name}",
        )
    _run(
        request,
        lambda: services.member_unlock(admin=request.user, member=member, request=request),
        f"{name} is unlocked and can sign in again.",
    )
    return redirect(_detail_url(member))


@access.practice_view
def member_revoke_api_tokens(request, pk):
    member = access.get_member_for_admin(request.user, pk)
    name = member.user.username
    if request.method != "POST":
        return _confirm(
            request,
            title=f"Revoke the API tokens of {name}?",
            cancel_url=_detail_url(member),
            text=f"Every program that uses an API token of {name} stops working at once; "
            f"{name} can ask for a new token with their password.",
            button="Revoke API tokens",
            danger=True,
        )
    _run(
        request,
        lambda: services.member_revoke_api_tokens(
            admin=request.user, member=member, ip=client_ip(request)
        ),
        f"The API tokens of {name} are revoked.",
    )
    return redirect(_detail_url(member))


@access.practice_view
def member_send_password_reset(request, pk):
    member = access.get_member_for_admin(request.user, pk)
    user = member.user
    if request.method != "POST":
        return _confirm(
            request,
            title=f"Send {user.username} a password reset email?",
            cancel_url=_detail_url(member),
            text=f"An email to {user.email or '(no address)'} with a link to choose a new "
            "password. Their current password keeps working until they use the link.",
            button="Send password reset email",
        )
    _run(
        request,
        lambda: services.member_send_password_reset(
            admin=request.user, member=member, request=request
        ),
        f"Password reset email sent to {user.email}.",
    )
    return redirect(_detail_url(member))


# Invitations ------------------------------------------------------------------------------


@access.practice_view
def invitation_list(request):
    invitations = access.invitations_visible_to(request.user).select_related(
        "invited_by", "accepted_user"
    )
    page = Paginator(invitations, INVITATIONS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        (
            invitation,
            services.invitation_status(invitation, now),
            [Role(role).label for role in invitation.roles],
        )
        for invitation in page
    ]
    return render(request, "accounts/invitation_list.html", {"page": page, "rows": rows})


@access.practice_view
def invitation_create(request):
    access.require(request.user, access.MANAGE_ACCOUNTS)
    form = InvitationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _ = services.invitation_create(
                admin=request.user,
                email=form.cleaned_data["email"],
                roles=form.cleaned_data["roles"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. The link works for "
                f"{Invitation.VALID_FOR_HOURS} hours.",
            )
            return redirect("accounts:invitation-list")
    return render(request, "accounts/invitation_form.html", {"form": form})


@access.practice_view
def invitation_resend(request, pk):
    invitation = access.get_invitation_for_admin(request.user, pk)
    if request.method != "POST":
        return _confirm(
            request,
            title=f"Re-send the invitation to {invitation.email}?",
            cancel_url=reverse("accounts:invitation-list"),
            text=f"A new link goes to {invitation.email}, valid for "
            f"{Invitation.VALID_FOR_HOURS} hours. The link sent before stops working.",
            button="Re-send invitation",
        )
    _run(
        request,
        lambda: services.invitation_resend(
            admin=request.user, invitation=invitation, request=request
        ),
        f"A new invitation link was sent to {invitation.email}; the previous link no longer works.",
    )
    return redirect("accounts:invitation-list")


@access.practice_view
def invitation_revoke(request, pk):
    invitation = access.get_invitation_for_admin(request.user, pk)
    if request.method != "POST":
        return _confirm(
            request,
            title=f"Withdraw the invitation to {invitation.email}?",
            danger=True,
            cancel_url=reverse("accounts:invitation-list"),
            text="The link in the invitation email stops working. You can invite the same "
            "address again later.",
            button="Withdraw invitation",
        )
    _run(
        request,
        lambda: services.invitation_revoke(
            admin=request.user, invitation=invitation, ip=client_ip(request)
        ),
        f"The invitation to {invitation.email} is withdrawn.",
    )
    return redirect("accounts:invitation-list")


@access.public_view
def invitation_accept(request, token):
    """Public: the invitee chooses a username and password. No sign-in needed."""
    if request.method == "POST" and not ratelimit.allow(
        "invitation-ip", client_ip(request) or "-", 10, 15 * 60
    ):
        return HttpResponse("Too many attempts from this address: wait a few minutes.", status=429)
    invitation = services.invitation_for_token(token)
    problem = services.invitation_problem(invitation)
    if problem:
        return _invitation_refused(request, problem, invitation)
    form = InvitationAcceptForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _invitation_refused(request, " ".join(error.messages), invitation)
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if request.user.is_authenticated:
                logout(request)  # whoever was signed in here, the new user signs in next
            messages.success(
                request, f"Your account {user.username} is ready. Sign in with your new password."
            )
            return redirect("login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "form": form,
            "invitation": invitation,
            "roles": [Role(role).label for role in invitation.roles],
        },
    )


def _invitation_refused(request, problem: str, invitation):
    return render(
        request,
        "accounts/invitation_accept.html",
        {"problem": problem},
        status=404 if invitation is None else 410,
    )


# Practice ---------------------------------------------------------------------------------


@access.practice_view
def practice_settings(request):
    membership = access.require(request.user, access.MANAGE_ACCOUNTS)
    from accounts.twofactor import devices as twofactor

    practice = Practice.objects.get(pk=membership.practice_id)
    form = PracticeSettingsForm(_posted(request), instance=practice)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                practice = services.practice_update_settings(
                    admin=request.user,
                    require_2fa=form.cleaned_data["require_2fa"],
                    session_idle_minutes=form.cleaned_data["session_idle_minutes"],
                    ip=client_ip(request),
                )
                self_report.crisis_text_update(
                    practice=practice,
                    actor=request.user,
                    ip=client_ip(request),
                    text=form.cleaned_data["self_report_crisis_text"],
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Practice settings saved.")
            if practice.require_2fa and not twofactor.has_two_factor(request.user):
                messages.warning(
                    request, "You have not set up two-factor authentication yourself yet."
                )
            return redirect("accounts:practice-settings")
    return render(request, "accounts/practice_settings.html", {"form": form, "practice": practice})
