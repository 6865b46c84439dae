"""The audit export reads its stored options through audit.selectors.filter_events; options it
cannot use fail the job with a message (ExportError), never an unexpected error."""

import pytest

from reports import exporters
from reports.identity import ExportError
from reports.models import ExportJob, ExportKind

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "options",
    [{"until": "9999-12-31"}, {"since": "2026-02-30"}, {"since": 20260101}, {"until": "soon"}],
    ids=["last-day-overflows", "no-such-day", "not-text", "not-a-date"],
)
def test_unusable_dates_fail_the_export_with_a_message(practice, options):
    job = ExportJob(practice=practice, kind=ExportKind.AUDIT_CSV, options=options)

    with pytest.raises(ExportError, match="The audit filters are not valid"):
        next(exporters.audit_rows(job, lambda done, total: None))


def test_usable_dates_pass(practice):
    job = ExportJob(practice=practice, kind=ExportKind.AUDIT_CSV, options={"until": "2999-12-31"})

    assert list(exporters.audit_rows(job, lambda done, total: None)) == []
