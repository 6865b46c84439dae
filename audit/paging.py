"""Newest-first pages of audit events by keyset, for the auditor's pages and the API's cursor.

A page starts after the (timestamp, id) of the row at the edge of the page before it, so it is
one range scan of the (…, -timestamp, -id) indexes with a LIMIT. Nothing counts the trail and no
page skips rows with OFFSET, so a page deep in a million events costs what the first one does;
events that share a timestamp are told apart by their id.

On the HTML pages a cursor that does not parse (edited, truncated, an old `?page=` link) shows
the first page: these are links a person follows, and the newest events are a harmless answer.
The API answers such a cursor 404 (api.pagination)."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Q

PAGE_SIZE = 50
CURSOR_PARAMETER = "cursor"

NEWEST_FIRST = ("-timestamp", "-id")
OLDEST_FIRST = ("timestamp", "id")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# The row's timestamp in µs since 1970, then its id.
POSITION = re.compile(r"(\d{1,17})\.(\d{1,19})")
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Position:
    """Where an event stands in the trail's order."""

    timestamp: datetime
    id: int

    @classmethod
    def of(cls, event) -> "Position":
        return cls(event.timestamp, event.pk)

    def encode(self) -> str:
        return f"{(self.timestamp - EPOCH) // MICROSECOND}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> "Position | None":
        """The position, or None when there is none or it does not parse."""
        match = POSITION.fullmatch(text or "")
        if match is None or int(match[2]) > MAX_ID:
            return None
        return cls(EPOCH + int(match[1]) * MICROSECOND, int(match[2]))


# (timestamp, id) < (t, i), written so that the index gets `timestamp <= t` as its range bound;
# the OR only settles the events that share the edge's timestamp.
def older_than(events, position: Position):
    """The events after `position` in the trail's order, newest first."""
    return events.filter(
        Q(timestamp__lt=position.timestamp) | Q(timestamp=position.timestamp, id__lt=position.id),
        timestamp__lte=position.timestamp,
    ).order_by(*NEWEST_FIRST)


def newer_than(events, position: Position):
    """The events before `position` in the trail's order, oldest first (nearest first)."""
    return events.filter(
        Q(timestamp__gt=position.timestamp) | Q(timestamp=position.timestamp, id__gt=position.id),
        timestamp__gte=position.timestamp,
    ).order_by(*OLDEST_FIRST)


# --- The HTML pages' "Newer" / "Older" links -------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A link's cursor: the events older (or newer) than the position, e.g. `o.<µs>.<id>`."""

    older: bool
    position: Position

    def encode(self) -> str:
        return f"{'o' if self.older else 'n'}.{self.position.encode()}"

    @classmethod
    def decode(cls, text: str | None) -> "Cursor | None":
        direction, _, position = (text or "").partition(".")
        position = Position.decode(position)
        if direction not in {"o", "n"} or position is None:
            return None
        return cls(direction == "o", position)


@dataclass(frozen=True)
class EventPage:
    events: list
    newer_url: str | None
    older_url: str | None

    def __iter__(self):
        return iter(self.events)

    def __len__(self):
        return len(self.events)


def keyset_page(
    events, cursor_text: str | None, query: dict | None = None, size: int | None = None
) -> EventPage:
    """The page of `events` the cursor points at (the newest page without one). `query` is what
    the links keep besides the cursor (the filters)."""
    size = size or PAGE_SIZE
    cursor = Cursor.decode(cursor_text)
    # One row more than the page shows tells whether there is a page beyond it.
    if cursor is None:
        rows = list(events.order_by(*NEWEST_FIRST)[: size + 1])
        has_newer, has_older = False, len(rows) > size
    elif cursor.older:
        rows = list(older_than(events, cursor.position)[: size + 1])
        # Events are never deleted: the row the cursor came from is still there, newer.
        has_newer, has_older = True, len(rows) > size
    else:
        rows = list(newer_than(events, cursor.position)[: size + 1])
        has_newer, has_older = len(rows) > size, True
    rows = rows[:size]
    if cursor is not None and not cursor.older:
        rows.reverse()  # read nearest first, shown newest first

    def link(older: bool) -> str:
        edge = Position.of(rows[-1] if older else rows[0])
        return "?" + urlencode({**(query or {}), CURSOR_PARAMETER: Cursor(older, edge).encode()})

    if not rows:  # past either end (a hand-made cursor): offer the newest page
        newest = "?" + urlencode(query or {})
        return EventPage(events=[], newer_url=newest if cursor else None, older_url=None)
    return EventPage(
        events=rows,
        newer_url=link(older=False) if has_newer else None,
        older_url=link(older=True) if has_older else None,
    )
