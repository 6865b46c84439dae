"""The daily task's writes: create the notifications, send the digests, mark them read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from accounts import access
from accounts.models import Membership, Practice
from patients.models import Patient
from treatments import worklist
from treatments.models import SelfReportLink, Trial
from treatments.selectors import clinician_worklist

from . import rules
from .models import Notification


@dataclass(frozen=True)
class Event:
    """Something worth one notification per clinician of the patient's practice."""

    key: str
    kind: str
    patient_id: int
    due_on: date
    message: str
    trial_id: int | None = None
    weeks: int | None = None


def clinicians_of(practice_id: int) -> list:
    """The active users of the practice whose roles may edit clinical records."""
    members = Membership.objects.filter(practice_id=practice_id, user__is_active=True)
    return [m.user_id for m in members if access.EDIT_CLINICAL in access.capabilities_of(m)]


def practice_events(practice_id: int, *, today: date) -> list[Event]:
    """The events of one practice's patients on `today`, from the clinician worklist."""
    patients = Patient.objects.active().filter(practice_id=practice_id)
    events = {}
    for as_of in rules.review_days_to_check(today):
        for row in clinician_worklist(patients, as_of=as_of).reviews_due:
            (trial,) = row.trials
            due = worklist.review_due(trial.facts(), today=as_of)
            if due is None or not rules.review_is_due_now(due.on, today=today):
                continue
            key = rules.review_key(trial.pk, due.weeks)
            events[key] = Event(
                key,
                rules.REVIEW_DUE,
                row.patient.pk,
                due.on,
                rules.review_message(trial.drug.name, due),
                trial_id=trial.pk,
                weeks=due.weeks,
            )
    for row in clinician_worklist(patients, as_of=today).no_recent_score:
        key = rules.no_recent_score_key(row.patient.pk, today)
        events[key] = Event(
            key,
            rules.NO_RECENT_SCORE,
            row.patient.pk,
            today,
            rules.no_recent_score_message(
                row.on, [trial.drug.name for trial in row.trials], today=today
            ),
        )
    for event in self_report_events(patients, today=today):
        events[event.key] = event
    return list(events.values())


def self_report_events(patients, *, today: date) -> list[Event]:
    """Patients with a self-report schedule, an ongoing antidepressant trial and a link due
    (two queries: their ongoing trials and their latest links)."""
    scheduled = {p.pk: p for p in patients.filter(self_report_every_weeks__isnull=False)}
    if not scheduled:
        return []
    starts = dict(
        Trial.objects.active()
        .filter(
            patient_id__in=scheduled,
            end_date__isnull=True,
            drug__is_antidepressant=True,
            start_date__lte=today,
        )
        .values("patient_id")
        .annotate(first=Min("start_date"))
        .values_list("patient_id", "first")
    )
    last_links = dict(
        SelfReportLink.objects.filter(patient_id__in=scheduled)
        .values("patient_id")
        .annotate(last=Max("created_at"))
        .values_list("patient_id", "last")
    )
    events = []
    for patient_id, start in starts.items():
        patient = scheduled[patient_id]
        last = last_links.get(patient_id)
        due = rules.self_report_due_on(
            every_weeks=patient.self_report_every_weeks,
            trial_start=start,
            last_link=timezone.localdate(last) if last else None,
        )
        if due is not None and due <= today:
            key = rules.self_report_key(patient_id, due)
            events.append(
                Event(
                    key,
                    rules.SELF_REPORT_DUE,
                    patient_id,
                    due,
                    rules.self_report_message(patient.self_report_every_weeks, due),
                )
            )
    return events


@transaction.atomic
def create_notifications(*, today: date | None = None) -> int:
    """Create today's notifications for every practice; returns how many were new. Running it
    again the same day (or the next, for the same event) creates none."""
    today = today or timezone.localdate()
    created = 0
    for practice_id in Practice.objects.values_list("pk", flat=True):
        recipients = clinicians_of(practice_id)
        if not recipients:
            continue
        events = practice_events(practice_id, today=today)
        if not events:
            continue
        existing = set(
            Notification.objects.filter(
                recipient_id__in=recipients, event_key__in=[event.key for event in events]
            ).values_list("recipient_id", "event_key")
        )
        new = [
            Notification(
                practice_id=practice_id,
                recipient_id=user_id,
                kind=event.kind,
                weeks=event.weeks,
                patient_id=event.patient_id,
                trial_id=event.trial_id,
                event_key=event.key,
                message=event.message,
                due_on=event.due_on,
            )
            for user_id in recipients
            for event in events
            if (user_id, event.key) not in existing
        ]
        # A second task running at the same moment loses the race quietly, not with an error.
        Notification.objects.bulk_create(new, ignore_conflicts=True)
        created += len(new)
    return created


def send_digests(*, today: date | None = None) -> int:
    """One e-mail per clinician with unread notifications created today: counts only, never
    a patient. Returns the number of e-mails sent."""
    today = today or timezone.localdate()
    since = timezone.make_aware(datetime.combine(today, time.min))
    kinds = defaultdict(list)
    rows = (
        Notification.objects.unread()
        .filter(created_at__gte=since)
        .exclude(recipient__email="")
        .filter(recipient__is_active=True)
        .values_list("recipient_id", "recipient__email", "kind")
    )
    for user_id, email, kind in rows:
        kinds[(user_id, email)].append(kind)
    sent = 0
    for (_, email), found in sorted(kinds.items()):
        text = rules.digest_text(found, getattr(settings, "SITE_URL", ""))
        if text is None:
            continue
        send_mail(
            "TRD Tracker: your reminders for today", text, settings.DEFAULT_FROM_EMAIL, [email]
        )
        sent += 1
    return sent


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, notifications) -> int:
    return notifications.unread().update(read_at=timezone.now())
