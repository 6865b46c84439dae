"""The patient discussion sheet (patient_pdf): what a clinician hands to a colleague or goes
through with the patient. Read back as a PDF reader reads it (pypdfium2), and every page
rendered to test-artifacts/ to look at."""

import ctypes
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.dates import today
from reports.identity import Identity
from reports.models import ExportJob
from reports.pdf import write_discussion_sheet
from tests.factories import (
    DoseChangeFactory,
    ScaleScoreFactory,
    TherapyFactory,
    TrialFactory,
    drug,
    phq9,
)
from treatments.selectors import patient_history, patient_warnings_and_staging
from treatments.services import refresh_trd_summaries

from .exports_support import content, pdf_pages_text

pytestmark = pytest.mark.usefixtures("eager")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def weeks_ago(weeks: int):
    return today() - timedelta(weeks=weeks)


def flat(value: str) -> str:
    """Text with every run of whitespace (line breaks of wrapped lines too) as one space."""
    return " ".join(value.split())


@pytest.fixture
def printer(clinician):
    clinician.first_name, clinician.last_name = "Dana", "Reyes"
    clinician.save()
    return clinician


@pytest.fixture
def demo(patient):
    """Like the demo's richest patients: flagged, three failed or stopped antidepressants, an
    MAOI started too soon after venlafaxine, ongoing lithium, ECT and esketamine, and scores."""
    patient.suicide_risk_flag = True
    patient.episode_start = weeks_ago(80)
    patient.save()
    TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        start_date=weeks_ago(70),
        end_date=weeks_ago(60),
        dose_mg=100,
        outcome="no_response",
        reason_stopped="no improvement",
    )
    venlafaxine = TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        start_date=weeks_ago(56),
        end_date=weeks_ago(42),
        dose_mg=75,
        outcome="partial_response",
    )
    DoseChangeFactory(trial=venlafaxine, date=weeks_ago(54), dose_mg=150)
    DoseChangeFactory(trial=venlafaxine, date=weeks_ago(50), dose_mg=225)
    TrialFactory(
        patient=patient,
        drug=drug("phenelzine"),
        start_date=weeks_ago(41),
        end_date=weeks_ago(38),
        dose_mg=45,
        outcome="intolerance",
        reason_stopped="dizziness",
    )
    lithium = TrialFactory(
        patient=patient,
        drug=drug("lithium"),
        start_date=weeks_ago(36),
        end_date=None,
        dose_mg=600,
        outcome="ongoing",
    )
    DoseChangeFactory(trial=lithium, date=weeks_ago(34), dose_mg=Decimal("900"))
    TherapyFactory(
        patient=patient,
        kind="ect",
        detail="bilateral",
        start_date=weeks_ago(30),
        end_date=weeks_ago(26),
        outcome="partial_response",
    )
    TherapyFactory(
        patient=patient,
        kind="esketamine",
        start_date=weeks_ago(8),
        end_date=None,
        outcome="ongoing",
    )
    for weeks, total in ((71, 24), (64, 23), (56, 22), (48, 17), (43, 15), (20, 13), (4, 12)):
        ScaleScoreFactory(patient=patient, scale="hamd17", date=weeks_ago(weeks), total=total)
    phq9(patient, item9=0, days_ago=60, others=2)
    phq9(patient, item9=2, days_ago=7, others=2)
    refresh_trd_summaries([patient])
    return patient


def pages_of(job) -> list[str]:
    assert job.status == "done", job.error
    return pdf_pages_text(content(job))


def render(job, name: str) -> list[Path]:
    """Every page as a PNG in test-artifacts/ (to look at), checked to be A4 and not blank."""
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-page-*.png"):
        old.unlink()
    document = pypdfium2.PdfDocument(content(job))
    paths = []
    try:
        for number, page in enumerate(document, start=1):
            image = page.render(scale=2).to_pil()
            assert abs(image.height / image.width - 297 / 210) < 0.01
            dark = sum(image.convert("L").histogram()[:128])
            assert dark > image.width * image.height * 0.005, f"page {number} looks blank"
            path = ARTIFACTS / f"{name}-page-{number}.png"
            image.save(path)
            paths.append(path)
            page.close()
    finally:
        document.close()
    return paths


def test_a_flagged_patient_has_the_risk_notice_at_the_top_of_page_one(run_export, printer, demo):
    job = run_export(printer, kind="patient_pdf", patient=demo.pk)

    first, *rest = pages_of(job)
    body = flat(first)
    assert "SUICIDE RISK: DISCUSS URGENTLY" in body
    assert body.index("SUICIDE RISK") < body.index("TRD status")
    assert "PHQ-9 item 9 (thoughts of death or self-harm) scored 2" in body
    assert "Flagged by a clinician on the patient record." in body
    assert not any("SUICIDE RISK" in page for page in rest)
    assert len(render(job, "discussion-sheet-flagged")) == len(rest) + 1


def test_a_patient_without_a_flag_or_phq9_item_9_has_no_risk_notice(
    run_export, printer, patient, history
):
    job = run_export(printer, kind="patient_pdf", patient=patient.pk)

    text = flat(" ".join(pages_of(job)))
    assert "SUICIDE RISK" not in text
    assert "Status: Meets the TRD definition" in text
    render(job, "discussion-sheet-unflagged")


def test_every_page_is_numbered_page_x_of_the_real_total(run_export, printer, demo):
    pages = pages_of(run_export(printer, kind="patient_pdf", patient=demo.pk))

    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


def test_every_page_names_the_practice_the_patient_the_printer_and_the_date(
    run_export, printer, demo
):
    pages = pages_of(run_export(printer, kind="patient_pdf", patient=demo.pk))

    for page in pages:
        assert "Test Practice" in page
        assert "Patient MRN-1" in page
        assert f"Printed {today():%Y-%m-%d} by Dana Reyes" in page


def test_a_de_identified_sheet_shows_the_pseudonym_and_never_the_record_number(
    run_export, auditor, demo
):
    job = run_export(auditor, kind="patient_pdf", patient=demo.pk, deidentify=True)

    pseudonym = Identity(job).pseudonym(demo.pk)
    pages = pages_of(job)
    for page in pages:
        assert f"Pseudonym {pseudonym}" in page
    everything = " ".join(pages)
    assert "MRN-1" not in everything
    assert "1980-05-17" not in everything  # the birth year only
    assert "1980" in everything


def test_the_sheet_shows_status_reasons_medicines_warnings_scores_and_staging(
    run_export, printer, demo
):
    job = run_export(printer, kind="patient_pdf", patient=demo.pk)

    text = flat(" ".join(pages_of(job)))
    assert "Status: Meets the TRD definition" in text
    assert "Meets TRD: adequate trials of 2 different antidepressants failed" in text
    assert "only 21 of the 42 required days at an adequate dose" in text  # phenelzine
    assert "Current medicines (ongoing trials)" in text
    assert "lithium" in text and "Esketamine since" in text
    found, stages = patient_warnings_and_staging(patient_history(demo))
    assert found, "the fixture should produce a warning"
    for warning in found:
        assert flat(warning.message) in text
    assert "HIGH" in text and "Sources:" in text
    assert "75 → 150 → 225" in text
    assert "Score trend" in text and "HAM-D-17: 24 (very severe)" in text
    assert f"{stages.maudsley.score} of 15" in text
    assert f"Stage {stages.stage_name}" in text
    assert "For discussion, not a prescription." in text


def test_tried_options_come_after_every_untried_one(run_export, printer, demo):
    job = run_export(printer, kind="patient_pdf", patient=demo.pk)

    text = flat(" ".join(pages_of(job)))
    options = patient_history(demo).options
    start = text.index("Options for discussion")
    untried = [text.index(o.option.title, start) for o in options if not o.already_tried]
    tried = [text.index(o.option.title, start) for o in options if o.already_tried]
    assert untried and tried
    assert max(untried) < text.index("Already tried", start) < min(tried)
    assert text.count("already tried") >= len(tried)


def font_of(textpage, symbol: str) -> str:
    """The name of the font the first `symbol` on the page is drawn with."""
    found = textpage.search(symbol).get_next()
    assert found, f"{symbol!r} is not on the page"
    index, _ = found
    size = pypdfium2.raw.FPDFText_GetFontInfo(textpage.raw, index, None, 0, None)
    name = ctypes.create_string_buffer(size)
    pypdfium2.raw.FPDFText_GetFontInfo(textpage.raw, index, name, size, None)
    return name.value.decode()


def test_the_embedded_font_draws_the_symbols_the_text_uses(run_export, printer, demo):
    job = run_export(printer, kind="patient_pdf", patient=demo.pk)

    text = " ".join(pages_of(job))
    for symbol in "≥≤→":
        assert symbol in text
    document = pypdfium2.PdfDocument(content(job))
    try:
        fonts = set()
        for page in document:
            textpage = page.get_textpage()
            for symbol in "≥≤→":
                if symbol in textpage.get_text_range():
                    fonts.add(font_of(textpage, symbol))
        assert fonts and all("DejaVuSans" in font for font in fonts), fonts
    finally:
        document.close()


def box_of(textpage, word: str):
    """(left, bottom, right, top) of the first occurrence of `word` on the page."""
    searcher = textpage.search(word, match_case=True)
    found = searcher.get_next()
    assert found, f"{word!r} is not on the page"
    index, count = found
    rects = [textpage.get_rect(i) for i in range(textpage.count_rects(index, count))]
    return (
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
    )


def test_the_trial_table_headers_do_not_overlap(run_export, printer, demo):
    job = run_export(printer, kind="patient_pdf", patient=demo.pk)

    document = pypdfium2.PdfDocument(content(job))
    try:
        page = next(p for p in document if "Outcome from" in p.get_textpage().get_text_range())
        textpage = page.get_textpage()
        headers = [
            "Drug (class)",
            "Dates",
            "Doses",
            "Adherence",
            "Outcome recorded",
            "Outcome from",
            "Days at",
            "Assessment",
        ]
        boxes = [box_of(textpage, header) for header in headers]
        for left, right in zip(boxes, boxes[1:], strict=False):
            assert left[2] < right[0], "a header runs into the next column"
        assert boxes[-1][2] <= page.get_width() - 15 * 72 / 25.4 + 1  # inside the margin
    finally:
        document.close()


def test_the_sheet_takes_no_query_per_trial(printer, practice, demo, tmp_path):
    def queries_for_sheet(name):
        job = ExportJob.objects.create(
            practice=practice, created_by=printer, kind="patient_pdf", options={"patient": demo.pk}
        )
        job.patients_included = set()
        with CaptureQueriesContext(connection) as queries:
            write_discussion_sheet(job, tmp_path / name, lambda done, total: None)
        return len(queries)

    before = queries_for_sheet("a.pdf")
    for offset in range(4):
        trial = TrialFactory(
            patient=demo,
            drug=drug("citalopram"),
            start_date=weeks_ago(140 - offset * 12),
            end_date=weeks_ago(132 - offset * 12),
            dose_mg=20,
        )
        DoseChangeFactory(trial=trial)
    ScaleScoreFactory(patient=demo, scale="madrs", date=weeks_ago(3), total=18)
    TherapyFactory(
        patient=demo,
        kind="tms",
        start_date=weeks_ago(12),
        end_date=weeks_ago(8),
        outcome="no_response",
    )

    assert queries_for_sheet("b.pdf") == before


def test_a_patient_with_nothing_recorded_still_gets_a_sheet(run_export, printer, patient):
    pages = pages_of(run_export(printer, kind="patient_pdf", patient=patient.pk))

    text = flat(" ".join(pages))
    assert "Status: Does not meet the TRD definition" in text
    assert "No trials recorded." in text
    assert "No rating-scale scores recorded." in text
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_other_medicines_are_not_weighed_as_trials_on_the_sheet(run_export, printer, demo):
    text = flat(" ".join(pages_of(run_export(printer, kind="patient_pdf", patient=demo.pk))))
    status = text.split("TRD status")[1].split("Current medicines")[0]
    trials = text.split("Outcome recorded")[1].split("Timeline")[0]

    assert "sertraline" in status and "lithium" not in status
    assert "venlafaxine" in trials and "lithium" not in trials
    assert "lithium" in text.split("Current medicines")[1]  # listed as a medicine
