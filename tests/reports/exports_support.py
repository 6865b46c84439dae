"""Shared by the export tests: a small practice with a known history, and file readers."""

import csv
import io
import json
import re
from datetime import date, timedelta

import pypdfium2
from openpyxl import load_workbook

from tests.factories import DoseChangeFactory, PatientFactory, TherapyFactory, TrialFactory, drug
from treatments.services import refresh_trd_summaries

API_EXPORTS = "/api/v1/exports/"
WEB_EXPORTS = "/reports/exports/"
DAY0 = date(2023, 1, 2)
ALL_KINDS = [
    "trials_csv",
    "trials_xlsx",
    "trd_register_csv",
    "audit_csv",
    "patient_pdf",
    "fhir_bundle",
]


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def seed_history(practice, patient):
    """`patient` meets TRD (sertraline then venlafaxine, both failed); a second patient has
    one imipramine (TCA) trial at too low a dose."""
    sertraline = TrialFactory(
        patient=patient, drug=drug("sertraline"), start_date=day(0), end_date=day(70), dose_mg=100
    )
    venlafaxine = TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        start_date=day(100),
        end_date=day(190),
        dose_mg=75,
        outcome="partial_response",
    )
    DoseChangeFactory(trial=venlafaxine, date=day(114), dose_mg=225)
    TherapyFactory(
        patient=patient,
        kind="ect",
        detail="bilateral",
        start_date=day(200),
        end_date=day(230),
        outcome="no_response",
    )
    other = PatientFactory(practice=practice, identifier="MRN-2", date_of_birth=date(1990, 3, 4))
    TrialFactory(
        patient=other, drug=drug("imipramine"), start_date=day(300), end_date=day(400), dose_mg=25
    )
    refresh_trd_summaries([patient, other])  # the factories bypass the services that do this
    return {"sertraline": sertraline, "venlafaxine": venlafaxine, "other": other}


def content(job) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()


def csv_rows(job) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content(job).decode("utf-8"))))


def xlsx_rows(job) -> list[dict]:
    book = load_workbook(io.BytesIO(content(job)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def pdf_pages_text(data: bytes) -> list[str]:
    """The text of each page, as a PDF reader extracts it (the sheet embeds a TrueType font,
    so its content streams hold glyph ids, not the text)."""
    document = pypdfium2.PdfDocument(data)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()


def pdf_text(data: bytes) -> str:
    """All the text of a PDF, page after page."""
    return "\n".join(pdf_pages_text(data))


def pdf_page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def fhir_bundle(job):
    """The export parsed and validated as a FHIR R4 (R4B models) Bundle."""
    from fhir.resources.R4B.bundle import Bundle

    data = json.loads(content(job))
    return data, Bundle.model_validate(data)
