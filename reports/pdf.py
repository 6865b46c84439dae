"""The patient discussion sheet as a PDF: TRD status with reasons, history, timeline, options.

The chart is drawn from the same geometry as the patient page (treatments.timeline), so the
sheet and the screen agree.
"""

from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from patients.models import Patient
from treatments import trd
from treatments.selectors import patient_history
from treatments.timeline import build_timeline

from .exporters import ExportError, Identity

CHART_WIDTH = 720
FILL = {
    "trial": colors.HexColor("#f1f3f5"),
    "dose-adequate": colors.HexColor("#0d6efd"),
    "dose-low": colors.HexColor("#ced4da"),
    "therapy": colors.HexColor("#20c997"),
}
STROKE = {"trial": colors.HexColor("#adb5bd"), "counts": colors.HexColor("#dc3545"),
          "therapy": colors.HexColor("#198754")}
# The standard PDF fonts have no glyphs for these.
PLAIN = str.maketrans({"≥": ">=", "≤": "<=", "→": "->", "←": "<-", "·": "-"})


def text(value) -> str:
    return escape(str(value).translate(PLAIN))


def timeline_drawing(timeline, width: float) -> Drawing:
    """The timeline geometry (pixels, y down) as a reportlab drawing (points, y up)."""
    scale = width / timeline.width
    height = timeline.height
    group = Group()

    def flip(y, h=0):
        return height - y - h

    for tick in timeline.ticks:
        group.add(Line(tick.x, flip(0), tick.x, flip(timeline.axis_y),
                       strokeColor=colors.HexColor("#e9ecef")))
        group.add(String(tick.x, flip(timeline.axis_y + 14), text(tick.label), fontSize=11,
                         fillColor=colors.HexColor("#6c757d"), textAnchor="middle"))
    for row in timeline.rows:
        outline = row.outline
        kind = "therapy" if outline.css == "therapy" else "trial"
        group.add(Rect(outline.x, flip(outline.y, outline.height), outline.width, outline.height,
                       fillColor=FILL[kind],
                       strokeColor=STROKE["counts" if row.counts else kind],
                       strokeWidth=2.5 if row.counts else 1))
        for step in row.steps:
            group.add(Rect(step.x, flip(step.y, step.height), step.width, step.height,
                           fillColor=FILL[step.css], strokeColor=None))
        group.add(String(4, flip(row.y + 11), text(row.label), fontSize=12))
        group.add(String(4, flip(row.y + 23), text(row.sublabel), fontSize=10,
                         fillColor=STROKE["counts"] if row.counts else colors.HexColor("#6c757d")))
    if timeline.today_x is not None:
        group.add(Line(timeline.today_x, flip(0), timeline.today_x, flip(timeline.axis_y),
                       strokeColor=colors.HexColor("#6c757d"), strokeDashArray=[4, 3]))
    group.scale(scale, scale)
    drawing = Drawing(width, height * scale)
    drawing.add(group)
    return drawing


def write_discussion_sheet(job, path, progress):
    patient = Patient.objects.active().filter(
        practice_id=job.practice_id, pk=job.options.get("patient")
    ).first()
    if patient is None:
        raise ExportError("The patient no longer exists (removed after the export was asked).")
    identity = Identity(job)
    history = patient_history(patient)
    evaluation = history.evaluation
    progress(1, 3)

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=8, leading=10)
    story = [
        Paragraph(f"Patient {text(identity.label(patient))}: discussion sheet", styles["Title"]),
        Paragraph(
            f"Born {text(identity.birth(patient))}; current episode since "
            f"{text(patient.episode_start or 'unknown')}. Evaluated as of {evaluation.as_of}.",
            body,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Meets the TRD definition" if evaluation.meets_trd
                  else "Does not meet the TRD definition", styles["Heading2"]),
        Paragraph(text(evaluation.summary), body),
    ]
    reasons = [e for e in evaluation.trials if not e.counts_toward_trd]
    for item in reasons:
        story.append(Paragraph(
            f"<b>{text(item.trial.drug.name)}</b> ({item.trial.start_date}): "
            f"{text('; '.join(item.reasons))}", small))

    story += [Paragraph("Trials", styles["Heading2"]), history_table(history, small)]
    timeline = build_timeline(evaluation, history.therapies, width=CHART_WIDTH)
    if not timeline.empty:
        frame_width = A4[0] - 30 * mm
        story += [Paragraph("Timeline", styles["Heading2"]),
                  timeline_drawing(timeline, frame_width)]
    progress(2, 3)

    story.append(Paragraph("Next-line options for discussion", styles["Heading2"]))
    story.append(Paragraph(
        "Options the source documents describe, for the clinician to discuss with the "
        "patient; not a recommendation.", small))
    for item in history.options:
        option = item.option
        tried = " (already tried)" if item.already_tried else ""
        story.append(Paragraph(f"<b>{text(option.title)}</b>{tried}: {text(option.summary)}",
                               body))
        story.append(Paragraph(f"Sources: {text('; '.join(option.sources))}", small))

    document = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
        topMargin=15 * mm, bottomMargin=15 * mm,
        title="TRD Tracker discussion sheet", author="TRD Tracker",
    )
    document.build(story)
    progress(3, 3)


def history_table(history, style) -> Table:
    rows = [["Drug", "Class", "Dates", "Doses (mg/day)", "Adherence", "Outcome",
             "Days adequate", "Assessment"]]
    for trial, item in history.trial_evaluations():
        doses = " -> ".join(trd.format_dose(s.dose_mg) for s in item.segments) if item else ""
        assessment = (
            "counts toward TRD" if item and item.counts_toward_trd
            else "adequate" if item and item.adequate else "not adequate"
        )
        rows.append([
            Paragraph(text(trial.drug.name), style), Paragraph(text(trial.drug.drug_class), style),
            Paragraph(f"{trial.start_date} to {trial.end_date or 'ongoing'}", style),
            Paragraph(text(doses or trd.format_dose(trial.dose_mg)), style),
            trial.get_adherence_display(), Paragraph(text(trial.get_outcome_display()), style),
            str(item.days_at_adequate_dose if item else ""), Paragraph(assessment, style),
        ])
    if len(rows) == 1:
        rows.append(["No trials recorded.", "", "", "", "", "", "", ""])
    table = Table(rows, repeatRows=1, colWidths=[27 * mm, 20 * mm, 30 * mm, 24 * mm, 18 * mm,
                                                  22 * mm, 16 * mm, 23 * mm])
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#adb5bd")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table
