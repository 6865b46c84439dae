"""The change history reads as a clinician would say it: no model names, ids or ISO stamps."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse

from patients.history import describe, readable_value
from tests.factories import ScaleScoreFactory, TrialFactory

WHEN = datetime(2026, 11, 30, 18, 22, 15, 762111, tzinfo=UTC)


def event(action, object_type, details, object_id="9"):
    return SimpleNamespace(
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
        timestamp=WHEN,
        actor="dr-lee",
    )


def test_an_added_score_is_named_and_lists_its_values_without_a_before():
    entry = describe(
        event(
            "create",
            "scalescore",
            {
                "changes": {
                    "scale": [None, "phq9"],
                    "date": [None, "2026-11-02"],
                    "total": [None, 12],
                }
            },
        ),
        {("scalescore", "9"): "PHQ-9 of 2 Nov 2026"},
    )

    assert entry.title == "Added score: PHQ-9 of 2 Nov 2026"
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("scale", None, "PHQ-9"),
        ("date", None, "2 Nov 2026"),
        ("total", None, "12"),
    ]


def test_a_change_shows_display_values_before_and_after():
    entry = describe(
        event(
            "update",
            "trial",
            {
                "changes": {
                    "outcome": ["no_response", "partial_response"],
                    "dose_mg": ["50", "100"],
                    "end_date": [None, "2026-03-01"],
                }
            },
        ),
        {("trial", "9"): "sertraline from 2 Jan 2026"},
    )

    assert entry.title == "Changed trial: sertraline from 2 Jan 2026"
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("outcome", "No response", "Partial response"),
        ("starting dose", "50 mg/day", "100 mg/day"),
        ("end", "—", "1 Mar 2026"),
    ]


def test_a_removal_shows_its_reason_and_not_the_deletion_stamp():
    entry = describe(
        event(
            "delete",
            "trial",
            {
                "changes": {"deleted_at": [None, WHEN.isoformat()]},
                "record": {"drug": "sertraline"},
                "reason": "entered for the wrong patient",
            },
        ),
        {("trial", "9"): "sertraline from 2 Jan 2026"},
    )

    assert entry.title == "Removed trial: sertraline from 2 Jan 2026"
    assert entry.reason == "entered for the wrong patient"
    assert entry.changes == []


@pytest.mark.parametrize(
    "field, value, shown",
    [
        ("suicide_risk_flag", True, "yes"),
        ("baseline_severity", "severe_psychotic", "Severe with psychosis"),
        ("kind", "ect", "ECT (electroconvulsive therapy)"),
        ("dose_changes", [["2026-01-16", "100"]], "100 mg/day from 16 Jan 2026"),
        ("item_scores", [1, 0, 2], "1, 0, 2"),
        ("notes", "", "—"),
    ],
)
def test_values_are_shown_as_the_forms_show_them(field, value, shown):
    assert readable_value(field, value) == shown


@pytest.mark.django_db
def test_the_patient_page_history_has_no_model_names_ids_or_iso_stamps(login, clinician, patient):
    client = login(clinician)
    trial = TrialFactory(patient=patient)
    ScaleScoreFactory(patient=patient)
    client.post(
        reverse("treatments:trial-edit", args=[patient.pk, trial.pk]),
        {
            "drug": trial.drug_id,
            "start_date": trial.start_date.isoformat(),
            "end_date": "",
            "dose_mg": "150",
            "adherence": "good",
            "outcome": "ongoing",
            "version": "1",
            "doses-TOTAL_FORMS": "0",
            "doses-INITIAL_FORMS": "0",
        },
    )
    client.post(
        reverse("treatments:trial-delete", args=[patient.pk, trial.pk]),
        {"reason": "duplicate entry"},
    )

    page = client.get(patient.get_absolute_url()).content.decode()
    history = re.sub(r"<[^>]+>", "", page[page.index("Change history") :])  # the visible text

    assert "Removed trial: sertraline from" in history
    assert "Reason: duplicate entry" in history
    assert "scalescore" not in history and f"#{trial.pk}" not in history
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", history)
