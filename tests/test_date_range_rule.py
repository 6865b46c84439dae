"""One rule for a date range (core.dates.range_error): its end may not come before its start.
The audit trail's filters and the export form both ask it."""

from datetime import date

import pytest

from audit.forms import AuditFilterForm
from core.dates import range_error
from reports.forms import ExportForm

RANGE = "Cannot be before the start of the range."


@pytest.mark.parametrize(
    ("since", "until", "error"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), RANGE),
        (date(2026, 3, 1), date(2026, 3, 1), None),
        (None, date(2026, 3, 1), None),
        (date(2026, 3, 1), None, None),
    ],
)
def test_the_end_may_not_come_before_the_start(since, until, error):
    assert range_error(since, until) == error


@pytest.mark.django_db
@pytest.mark.parametrize(
    "form",
    [
        AuditFilterForm({"since": "2026-03-02", "until": "2026-03-01"}),
        ExportForm({"kind": "trials_csv", "since": "2026-03-02", "until": "2026-03-01"}),
    ],
    ids=["audit filters", "export"],
)
def test_both_forms_say_so_on_the_end_date(form):
    assert not form.is_valid()
    assert form.errors["until"] == [RANGE]
