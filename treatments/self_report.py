"""A patient's own PHQ-9 by a single-use link: make the link, answer it once, e-mail it.

The token is `secrets.token_urlsafe(32)` (256 bits); only its SHA-256 is stored, so the token
exists in the answer that made the link and nowhere else. Answering locks the link row, stores
the PHQ-9 through the clinicians' rule (services.score_create, marked `self_report`) and marks
the link used, in one transaction: a second answer finds it used.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import record_event
from core.dates import today
from patients.scope import PatientScope

from . import scales, services
from .models import ScaleScore, ScoreSource, SelfReportLink

SCALES = (scales.PHQ9,)


class LinkGone(Exception):
    """The link is unknown, used or expired: the public page answers 410."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_path(token: str) -> str:
    return reverse("self-report", args=[token])


def link_actor(link: SelfReportLink) -> str:
    """Who an answer's audit events name: the link, since the patient has no account."""
    return f"self-report link #{link.pk}"


def open_links(patient):
    """The patient's links that can still be answered, newest first."""
    return SelfReportLink.objects.filter(
        patient=patient, used_at=None, expires_at__gt=timezone.now()
    ).select_related("created_by")


@transaction.atomic
def link_create(*, scope, scale: str = scales.PHQ9) -> tuple[SelfReportLink, str]:
    """A new link for the scope's patient, and its token (returned this once, never stored)."""
    if scale not in SCALES:
        raise ValidationError({"scale": f"Only {', '.join(SCALES)} can be self-reported."})
    token = secrets.token_urlsafe(32)
    link = SelfReportLink.objects.create(
        patient=scope.patient,
        scale=scale,
        token_hash=hash_token(token),
        created_by=scope.user,
        expires_at=timezone.now() + timedelta(days=settings.SELF_REPORT_LINK_DAYS),
    )
    record_event(
        actor=scope.user,
        practice_id=scope.practice_id,
        action=Action.CREATE,
        obj=link,
        patient_id=scope.patient.pk,
        ip=scope.ip,
        details={
            "event": "self_report_link_created",
            "scale": scale,
            "expires_at": link.expires_at.isoformat(),
        },
    )
    return link, token


def find_open(token: str, *, lock: bool = False) -> SelfReportLink:
    """The open link of `token`, or LinkGone (unknown, used and expired alike)."""
    links = SelfReportLink.objects.select_related("patient__practice")
    if lock:
        links = links.select_for_update(of=("self",))
    link = links.filter(token_hash=hash_token(token or "")).first()
    if link is None or not link.is_open(timezone.now()):
        raise LinkGone
    return link


def validate_answers(items, difficulty) -> dict[str, str]:
    """Field errors for the nine PHQ-9 items and the difficulty question (all 0-3)."""
    errors = scales.validate(scales.PHQ9, None, list(items))
    if difficulty is None or not isinstance(difficulty, int) or not 0 <= difficulty <= 3:
        errors["difficulty"] = "Choose how difficult these problems have made things (0–3)."
    return errors


@transaction.atomic
def submit(*, token: str, items: list[int], difficulty: int, ip: str | None) -> ScaleScore:
    """Store the patient's answers as a self-reported PHQ-9 and use the link up.
    LinkGone for a link that cannot be answered; ValidationError for answers out of range."""
    link = find_open(token, lock=True)
    errors = validate_answers(items, difficulty)
    if errors:
        raise ValidationError(errors)
    scope = PatientScope(link_actor(link), link.patient, ip=ip)
    score = services.score_create(
        scope=scope,
        score=ScaleScore(
            scale=link.scale,
            date=today(),
            items=list(items),
            difficulty=difficulty,
            source=ScoreSource.SELF_REPORT,
        ),
    )
    link.used_at = timezone.now()
    link.score = score
    link.save(update_fields=["used_at", "score"])
    record_event(
        actor=link_actor(link),
        practice_id=link.patient.practice_id,
        action=Action.UPDATE,
        obj=link,
        patient_id=link.patient_id,
        ip=ip,
        details={
            "event": "self_report_submitted",
            "link": link.pk,
            "score": score.pk,
            "source": ScoreSource.SELF_REPORT,
        },
    )
    return score


def link_email(*, scope, link_id: int, token: str, email: str, url: str) -> None:
    """E-mail an open link of the scope's patient. The message holds the link and the practice's
    name only: the token must be the link's own (so nothing else can be sent this way)."""
    link = SelfReportLink.objects.filter(
        patient=scope.patient, pk=link_id, token_hash=hash_token(token or "")
    ).first()
    if link is None or not link.is_open(timezone.now()):
        raise LinkGone
    practice = scope.patient.practice
    body = render_to_string(
        "treatments/email/self_report_link.txt",
        {
            "url": url,
            "practice": practice.name,
            "expires": link.expires_at,
            "crisis_text": practice.crisis_text,
        },
    )
    subject = f"A questionnaire from {practice.name}"
    with transaction.atomic():
        record_event(
            actor=scope.user,
            practice_id=scope.practice_id,
            action=Action.EXPORT,
            obj=link,
            patient_id=scope.patient.pk,
            ip=scope.ip,
            details={"event": "self_report_link_emailed", "link": link.pk},
        )
        transaction.on_commit(lambda: send_mail(subject, body, None, [email]))


@transaction.atomic
def crisis_text_update(*, practice, text: str, actor, ip: str | None) -> None:
    """The practice's crisis text (accounts.Practice.self_report_crisis_text), audited."""
    from accounts.models import Practice

    practice = Practice.objects.select_for_update().get(pk=practice.pk)
    before = practice.self_report_crisis_text
    practice.self_report_crisis_text = text.strip()
    if practice.self_report_crisis_text == before:
        return
    practice.full_clean()
    practice.save(update_fields=["self_report_crisis_text"])
    record_event(
        actor=actor,
        practice_id=practice.pk,
        action=Action.ACCOUNT_CHANGE,
        obj=practice,
        ip=ip,
        details={
            "event": "settings_changed",
            "changes": {"self_report_crisis_text": [before, practice.self_report_crisis_text]},
        },
    )
