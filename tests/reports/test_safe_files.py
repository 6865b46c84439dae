"""Files we write are safe to open: no formula from a text cell, typed XLSX cells."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports.cells import csv_cell, csv_field, neutralised, xlsx_cell
from tests.factories import PatientFactory, TrialFactory, drug

from .exports_support import content, csv_rows

pytestmark = pytest.mark.usefixtures("eager")

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_leading_text_is_prefixed_with_a_quote(text):
    assert neutralised(text) == "'" + text
    assert csv_cell(text) == "'" + text and xlsx_cell(text) == "'" + text


def test_plain_text_numbers_and_dates_are_left_as_they_are():
    assert neutralised("DEMO-001") == "DEMO-001"
    assert csv_cell(Decimal("37.50")) == "37.5" and xlsx_cell(Decimal("37.5")) == Decimal("37.5")
    assert csv_cell(date(2024, 2, 29)) == "2024-02-29" and xlsx_cell(date(2024, 2, 29)) == date(
        2024, 2, 29
    )
    assert csv_cell(None) == "" and csv_cell(42) == "42"


AWKWARD = [
    "plain",
    "a,b",
    'say "hi"',
    '"',
    ",",
    "two\nlines",
    "cr\rhere",
    "",
    " spaced ",
    "semi; colon",
    "'quoted'",
    "ünïcode",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_csv_field_writes_a_field_as_csv_writer_does(text):
    written = io.StringIO()
    csv.writer(written).writerow([text, "next"])
    assert f"{csv_field(text)},next\r\n" == written.getvalue()


@pytest.fixture
def hostile_patients(practice):
    for n, identifier in enumerate(HOSTILE[:4]):
        patient = PatientFactory(practice=practice, identifier=identifier)
        TrialFactory(
            patient=patient,
            drug=drug("sertraline"),
            start_date=date(2024, 1, 1 + n),
            end_date=date(2024, 3, 1),
            dose_mg=100,
        )
    from patients.models import Patient
    from treatments.services import refresh_trd_summaries

    refresh_trd_summaries(Patient.objects.all())


@pytest.mark.parametrize("kind", ["trials_csv", "trd_register_csv"])
def test_csv_exports_neutralise_formula_leading_record_numbers(
    run_export, auditor, hostile_patients, kind
):
    job = run_export(auditor, kind=kind)

    written = sorted(row["patient_identifier"] for row in csv_rows(job))
    assert written == sorted("'" + text for text in HOSTILE[:4])


def test_the_xlsx_export_has_text_not_formulas_and_typed_cells(
    run_export, auditor, hostile_patients
):
    job = run_export(auditor, kind="trials_xlsx")

    sheet = load_workbook(io.BytesIO(content(job))).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    assert {row[0].value for row in rows} == {"'" + text for text in HOSTILE[:4]}
    assert all(row[0].data_type == "s" for row in rows)  # text cells, never formulas
    start = rows[0][header.index("start_date")]
    dose = rows[0][header.index("starting_dose_mg")]
    days = rows[0][header.index("days_at_adequate_dose")]
    assert isinstance(start.value, datetime) and start.is_date
    assert (dose.data_type, dose.value) == ("n", 100)
    assert days.data_type == "n"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{len(rows) + 1}"
    assert sheet.column_dimensions["N"].width >= 40  # the reasons column is readable
