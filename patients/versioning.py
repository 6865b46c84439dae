"""Optimistic concurrency: a record carries a `version`, raised by one with every stored change.

A write locks its row (`SELECT … FOR UPDATE`), checks the version its client read when it names
one (an API `If-Match`, the version hidden in a web form), and changes the row it locked, so two
concurrent edits of different fields both persist and a stale one is refused, not applied.
"""

from django.http import Http404

from audit.models import Action, AuditEvent


class StaleVersion(Exception):
    """The record changed after the client read it; nothing was saved."""

    def __init__(self, record, changed_by: str = "", changed_at=None):
        self.record, self.changed_by, self.changed_at = record, changed_by, changed_at
        who = changed_by or "Someone"
        when = f" at {changed_at:%Y-%m-%d %H:%M} UTC" if changed_at else ""
        super().__init__(
            f"{who} changed this record{when} after you opened it (it is now version "
            f"{record.version}). Nothing was saved: check the current record, then make your "
            "change again."
        )


def last_change(record) -> AuditEvent | None:
    return (
        AuditEvent.objects.filter(
            object_type=record._meta.model_name,
            object_id=str(record.pk),
            action__in=(Action.CREATE, Action.UPDATE, Action.DELETE),
        )
        .order_by("-timestamp", "-id")
        .first()
    )


def lock(queryset, pk, if_match: set[int] | None = None):
    """The row `pk` of `queryset`, locked until the transaction ends; 404 when it is gone.

    Raises StaleVersion unless the row's version is in `if_match` (None: any version)."""
    try:
        record = queryset.select_for_update(of=("self",)).get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404("This record no longer exists.") from None
    if if_match is not None and record.version not in if_match:
        event = last_change(record)
        raise StaleVersion(record, event.actor if event else "", event.timestamp if event else None)
    return record
