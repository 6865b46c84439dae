"""The auditor's pages (audit trail, patient access report) page by keyset: "Newer" / "Older"
links, newest first by (timestamp, id), nothing counted."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import paging
from audit.models import Action, AuditEvent
from audit.paging import Cursor, Position
from audit.services import record_event
from tests.factories import PatientFactory

from .helpers import events_in_ties, newest_first

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(paging, "PAGE_SIZE", 3)


def walk(client, url, link="older_url") -> tuple[list[int], list]:
    """Follow the page's `link` from `url` to the end: the event ids shown, and the pages."""
    shown, pages = [], []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        shown += [event.pk for event in page]
        pages.append(page)
        url = getattr(page, link) and urlsplit(url).path + getattr(page, link)
    return shown, pages


def test_older_links_walk_every_filtered_event_once_newest_first_through_ties(
    small_pages, practice, other_practice, auditor, login
):
    written = events_in_ties(practice)
    events_in_ties(other_practice)
    views = [e for e in written if e.action == Action.VIEW]

    shown, pages = walk(login(auditor), "/audit/?action=view")

    assert shown == newest_first(views)
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert pages[0].newer_url is None and pages[-1].older_url is None


def test_newer_links_walk_back_to_the_newest_event(small_pages, practice, auditor, login):
    written = events_in_ties(practice)
    client = login(auditor)
    _, pages = walk(client, "/audit/?action=view")

    back, _ = walk(client, "/audit/" + pages[-1].newer_url, link="newer_url")

    views = newest_first([e for e in written if e.action == Action.VIEW])
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert back == views[6:9] + views[3:6] + views[0:3]


def test_the_links_keep_the_filters_and_only_the_filters(small_pages, practice, auditor, login):
    patient = PatientFactory(practice=practice, identifier="MRN-9")
    for _ in range(4):
        record_event(
            actor="alice", practice_id=practice.pk, action=Action.VIEW, patient_id=patient.pk
        )

    page = (
        login(auditor)
        .get("/audit/", {"identifier": "MRN-9", "actor": "alice", "action": "", "page": "7"})
        .context["page"]
    )

    query = parse_qs(page.older_url.lstrip("?"))
    assert set(query) == {"identifier", "actor", "cursor"}
    assert (query["identifier"], query["actor"]) == (["MRN-9"], ["alice"])


def test_the_audit_page_runs_no_count(practice, auditor, login):
    events_in_ties(practice)
    client = login(auditor)
    older = client.get("/audit/?action=view").context["page"].older_url or ""

    for url in ("/audit/", "/audit/?action=view", "/audit/" + older):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()], url


def test_the_access_report_pages_its_events_without_counting_them(
    small_pages, practice, auditor, login
):
    patient = PatientFactory(practice=practice)
    about = [
        record_event(
            actor=f"u{n}", practice_id=practice.pk, action=Action.VIEW, patient_id=patient.pk
        )
        for n in range(5)
    ]
    record_event(actor="x", practice_id=practice.pk, action=Action.VIEW, patient_id=patient.pk + 1)
    client = login(auditor)

    with CaptureQueriesContext(connection) as queries:
        shown, _ = walk(client, f"/audit/patients/{patient.pk}/")

    # Opening the report is recorded too, so the openings are among the events shown.
    assert [pk for pk in shown if pk in {e.pk for e in about}] == newest_first(about)
    assert len(shown) == len(set(shown))
    # The people table's per-action counts are aggregates; nothing counts the rows to page them.
    assert not [q["sql"] for q in queries if "COUNT(*)" in q["sql"].upper()]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "o.",
        "x.1.1",
        "o.1.99999999999999999999",
        "o.123456789012345678.1",
        "o.-1.5",
        "n.1764550858123456.",
        "o.1764550858123456.1\x00",
    ],
)
def test_a_garbled_cursor_shows_the_first_page(practice, auditor, login, cursor):
    written = events_in_ties(practice)
    client = login(auditor)
    patient = PatientFactory(practice=practice)

    response = client.get("/audit/", {"cursor": cursor})
    report = client.get(f"/audit/patients/{patient.pk}/", {"cursor": cursor})

    assert response.status_code == report.status_code == 200
    assert [e.pk for e in response.context["page"]] == newest_first(written)
    assert response.context["page"].newer_url is None


def test_a_cursor_past_the_end_offers_the_newest_page(practice, auditor, login):
    events_in_ties(practice)
    oldest = AuditEvent.objects.order_by("timestamp", "id").first()

    page = login(auditor).get(
        "/audit/", {"action": "login", "cursor": Cursor(True, Position.of(oldest)).encode()}
    )

    assert list(page.context["page"]) == []
    assert page.context["page"].newer_url == "?action=login"


def test_a_cursor_round_trips_its_timestamp_to_the_microsecond():
    position = Position(datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC), 2**63 - 1)

    for older in (True, False):
        assert Cursor.decode(Cursor(older, position).encode()) == Cursor(older, position)


def test_the_trail_has_no_practice_index_of_its_own_only_the_composite_ones():
    with connection.cursor() as cursor:
        indexes = {
            name: info["columns"]
            for name, info in connection.introspection.get_constraints(
                cursor, "audit_auditevent"
            ).items()
            if info["index"] and not info["primary_key"]
        }

    assert ["practice_id"] not in indexes.values()
    assert indexes["audit_practice_time"][0] == "practice_id"


@pytest.mark.parametrize("query", ["", "action=view&"])
def test_a_page_deep_in_the_trail_is_an_index_range_scan(
    postgres, practice, auditor, login, api, query
):
    """The API's and the page's event query, given a cursor: with sequential scans priced out,
    it reads the practice's index from the cursor's timestamp on, with a LIMIT."""
    events_in_ties(practice, per_moment=30)
    client, api_client = login(auditor), api(auditor)
    html_cursor = client.get(f"/audit/?{query}").context["page"].older_url
    api_next = api_client.get(f"/api/v1/audit-events/?{query}").json()["next"]

    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for get, url in ((client.get, "/audit/" + html_cursor), (api_client.get, api_next)):
                with CaptureQueriesContext(connection) as queries:
                    assert get(url).status_code == 200
                (sql,) = [
                    q["sql"]
                    for q in queries
                    if 'FROM "audit_auditevent"' in q["sql"]
                    and "LIMIT" in q["sql"]
                    and "timestamp" in q["sql"].split("WHERE")[1]
                ]
                cursor.execute("EXPLAIN " + sql)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        finally:
            cursor.execute("SET enable_seqscan = on")

    index = "audit_practice_action" if query else "audit_practice_time"
    for plan in plans:
        assert plan.lstrip().startswith("Limit"), plan
        assert f"Index Scan using {index}" in plan, plan
        assert 'timestamp" <=' in plan.split("Index Cond:")[1].splitlines()[0], plan
