"""Audit events for the paging tests: several share each timestamp (so a page's edge falls
inside a tie), and the timestamps are written out of id order (so the order is by time, then
id, and not by id alone)."""

from datetime import timedelta
from unittest import mock

from django.utils import timezone

from audit.models import Action
from audit.services import record_event

# Minutes before now, in the order the events are written.
WRITE_ORDER = [30, 10, 50, 20, 40]


def events_in_ties(practice, per_moment: int = 4) -> list:
    """`per_moment` events at each moment of WRITE_ORDER, views and logins alternating."""
    now = timezone.now()
    written = []
    for minutes in WRITE_ORDER:
        with mock.patch("django.utils.timezone.now", return_value=now - timedelta(minutes=minutes)):
            written += [
                record_event(
                    actor=f"user{n}",
                    practice_id=practice.pk,
                    action=Action.VIEW if n % 2 == 0 else Action.LOGIN,
                )
                for n in range(per_moment)
            ]
    return written


def newest_first(events) -> list[int]:
    return [e.pk for e in sorted(events, key=lambda e: (e.timestamp, e.pk), reverse=True)]
