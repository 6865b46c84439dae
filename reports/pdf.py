"""The patient discussion sheet as a PDF, for a clinician to hand to a colleague or to go
through with the patient.

Page 1 opens with the suicide-risk notice (when there is one), the TRD status with the reason
each trial counts or not, the current medicines and the warnings; then the trial table, the
timeline with the scores, the score trend, the staging with its inputs, and the options (not
yet tried first). Every page carries the practice, the patient (or the pseudonym), the print
date, who printed it and "Page X of Y".

Everything comes from the history the patient page uses (treatments.selectors), loaded in a
constant number of queries. The chart is drawn from the same geometry as the patient page
(treatments.timeline), so the sheet and the screen agree. Printed in black and white it still
reads: states are words and bold labels, never colour alone.
"""

import functools
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    ListFlowable,
    ListItem,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from core.dates import today
from patients.models import Patient
from treatments import scales, trd
from treatments.selectors import patient_history, patient_warnings_and_staging
from treatments.timeline import build_timeline

from .identity import ExportError, Identity

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
TOP_MARGIN = 25 * mm  # room for the running header
BOTTOM_MARGIN = 18 * mm  # room for the footer
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN  # 180 mm

INK = colors.black
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")
SHADE = colors.HexColor("#eeeeee")
CHART_WIDTH = 760  # timeline pixels; scaled to the frame

FILL = {
    "trial": colors.white,
    "dose-adequate": colors.HexColor("#1f3b73"),  # dark: prints near black
    "dose-low": colors.HexColor("#c8c8c8"),  # light grey
    "therapy": colors.HexColor("#8fd3b8"),
}
BAND_GREYS = ("#f7f7f7", "#ececec", "#dedede", "#cfcfcf", "#bfbfbf")
SEVERITY_LABEL = {"high": "HIGH", "moderate": "MODERATE", "info": "INFO"}
MSM_INPUT_LABELS = {
    "duration": "Duration of the current episode",
    "severity": "Severity at baseline",
    "failed_antidepressants": "Failed antidepressants",
    "augmentation": "Augmentation",
    "ect": "ECT",
}
NOT_A_PRESCRIPTION = (
    "For discussion, not a prescription. The options below are those the source documents "
    "describe; the app lists them to inform a conversation between clinician and patient and "
    "recommends none of them."
)


@functools.cache
def register_fonts() -> None:
    """DejaVu Sans (vendored in reports/fonts/) has the ≥, ≤ and → the standard fonts lack."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, textColor=INK)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5),
        "muted": ParagraphStyle("muted", parent=body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.2),
        "head": ParagraphStyle("head", parent=body, fontName=BOLD, fontSize=7.5, leading=9),
        "right": ParagraphStyle(
            "right", parent=body, fontSize=7.5, leading=9.2, alignment=TA_RIGHT
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName=BOLD, fontSize=15, leading=19, spaceAfter=2
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=9,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=body,
            fontName=BOLD,
            fontSize=9.5,
            leading=12,
            spaceBefore=5,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "alert": ParagraphStyle("alert", parent=body, fontName=BOLD, fontSize=12, leading=15),
        "status": ParagraphStyle("status", parent=body, fontName=BOLD, fontSize=11.5, leading=15),
    }


def text(value) -> str:
    """A value as Paragraph markup (escaped)."""
    return escape(str(value))


def para(markup: str, style: str = "body") -> Paragraph:
    return Paragraph(markup, styles()[style])


def grid_table(rows, widths, *, header=True, style=()) -> Table:
    """A table of Paragraph cells with a light grid, the header row shaded and repeated."""
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    table.setStyle(TableStyle(commands + list(style)))
    return table


def header_row(*labels) -> list[Paragraph]:
    return [para(text(label), "head") for label in labels]


# --- Page furniture -----------------------------------------------------------------------


class NumberedCanvas(canvas.Canvas):
    """Holds every page until the end, then writes "Page X of Y" with the real Y."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(INK)
            self.drawRightString(PAGE_WIDTH - MARGIN, 9 * mm, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def page_furniture(*, practice: str, patient: str, printed: str):
    """The running header and footer drawn on every page."""

    def draw(pdf, _document):
        pdf.saveState()
        top = PAGE_HEIGHT - 11 * mm
        pdf.setFillColor(INK)
        pdf.setFont(BOLD, 10)
        pdf.drawString(MARGIN, top, practice)
        pdf.drawRightString(PAGE_WIDTH - MARGIN, top, patient)
        pdf.setFont(FONT, 8)
        pdf.setFillColor(MUTED)
        pdf.drawString(
            MARGIN, top - 4.5 * mm, "TRD Tracker · treatment-resistant depression discussion sheet"
        )
        pdf.drawRightString(PAGE_WIDTH - MARGIN, top - 4.5 * mm, printed)
        pdf.setStrokeColor(INK)
        pdf.setLineWidth(0.8)
        pdf.line(MARGIN, top - 7 * mm, PAGE_WIDTH - MARGIN, top - 7 * mm)
        pdf.setLineWidth(0.4)
        pdf.line(MARGIN, 13 * mm, PAGE_WIDTH - MARGIN, 13 * mm)
        pdf.setFont(FONT, 7)
        pdf.drawString(
            MARGIN, 9 * mm, "Confidential: patient information. For discussion, not a prescription."
        )
        pdf.restoreState()

    return draw


# --- Sections -----------------------------------------------------------------------------


def suicide_risk_notice(risk) -> list:
    """The boxed notice the patient page shows, in the same words (patients/_suicide_risk)."""
    reasons = []
    if risk.from_phq9:
        reasons.append(
            f"PHQ-9 item 9 (thoughts of death or self-harm) scored <b>{risk.phq9_item9}</b> in "
            f"the latest PHQ-9, on {risk.phq9_date:%Y-%m-%d}."
        )
    if risk.flagged_by_clinician:
        reasons.append("Flagged by a clinician on the patient record.")
    inner = [
        para("SUICIDE RISK: DISCUSS URGENTLY", "alert"),
        bullets(reasons),
        para(
            "<b>Urgent care</b> is needed for suicidal ideation, sudden neurological "
            "symptoms, or severe agitation or psychosis. "
            "<font size=7>Source: Understanding and Managing TRD in the U.S.</font>"
        ),
        para(
            "The options the sources link to suicide risk are marked in the list of options. "
            "This notice stays while the clinician's flag is set or the latest PHQ-9 item 9 "
            "is above 0.",
            "small",
        ),
    ]
    box = Table([[inner]], colWidths=[FRAME_WIDTH])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 2.2, INK),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fbe3e4")),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
            ]
        )
    )
    return [box, Spacer(1, 3 * mm)]


def bullets(items, style: str = "body") -> ListFlowable:
    return ListFlowable(
        [ListItem(para(item, style), leftIndent=10, value="•") for item in items],
        bulletType="bullet",
        start="•",
        leftIndent=10,
        bulletFontName=FONT,
        bulletFontSize=8,
    )


def patient_facts(identity, patient, label, evaluation) -> list:
    episode = f"{patient.episode_start:%Y-%m-%d}" if patient.episode_start else "not recorded"
    facts = [
        [
            para("<b>Patient</b>", "small"),
            para(text(label), "small"),
            para("<b>Born</b>", "small"),
            para(text(identity.birth(patient)), "small"),
        ],
        [
            para("<b>Current episode since</b>", "small"),
            para(episode, "small"),
            para("<b>Evaluated as of</b>", "small"),
            para(f"{evaluation.as_of:%Y-%m-%d}", "small"),
        ],
    ]
    table = Table(facts, colWidths=[38 * mm, 52 * mm, 32 * mm, 58 * mm])
    table.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return [
        para("Treatment-resistant depression: discussion sheet", "title"),
        table,
        Spacer(1, 3 * mm),
    ]


def trd_status(evaluation) -> list:
    verdict = evaluation.verdict
    box = Table(
        [
            [
                [
                    para(f"Status: {verdict}", "status"),
                    para(text(evaluation.summary)),
                    para(
                        f"Definition used: at least {trd.MIN_FAILED_TRIALS} different antidepressants "
                        f"that failed (no or partial response) after an adequate trial: ≥ "
                        f"{trd.MIN_ADEQUATE_WEEKS} weeks ({trd.MIN_ADEQUATE_DAYS} days) at or above the "
                        "minimum adequate dose, adherence not poor, ended in the current episode.",
                        "small",
                    ),
                ]
            ]
        ],
        colWidths=[FRAME_WIDTH],
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 7),
                ("RIGHTPADDING", (0, 0), (-1, -1), 7),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story = [para("TRD status", "h2"), box]
    if evaluation.trials:
        rows = [header_row("Trial", "Counts?", "Why")]
        for item in evaluation.trials:
            trial = item.trial
            if not trial.drug.is_antidepressant:
                continue  # other medicines are listed apart, never weighed as trials
            end = f"{trial.end_date:%Y-%m-%d}" if trial.end_date else "ongoing"
            if item.counts_toward_trd:
                why = (
                    f"adequate: {item.days_at_adequate_dose} days at an adequate dose "
                    f"(≥ {trd.MIN_ADEQUATE_DAYS} needed); outcome "
                    f"{trial.outcome.replace('_', ' ')}"
                )
            else:
                why = "; ".join(item.reasons)
            if item.notes:
                why += " — " + "; ".join(item.notes)
            rows.append(
                [
                    para(
                        f"<b>{text(trial.drug.name)}</b><br/>{trial.start_date:%Y-%m-%d} → {end}",
                        "cell",
                    ),
                    para("<b>Counts</b>" if item.counts_toward_trd else "Does not count", "cell"),
                    para(text(why), "cell"),
                ]
            )
        story += [Spacer(1, 2 * mm), grid_table(rows, [48 * mm, 26 * mm, FRAME_WIDTH - 74 * mm])]
    return story


def current_medicines(history) -> list:
    as_of = history.evaluation.as_of
    story = [para("Current medicines (ongoing trials)", "h2")]
    ongoing = [
        (trial, item)
        for trial, item in history.trial_evaluations()
        if trial.end_date is None and item is not None
    ]
    if ongoing:
        rows = [
            header_row(
                "Medicine", "Class", "Dose now (mg/day)", "Since", "Days at adequate dose so far"
            )
        ]
        for trial, item in ongoing:
            dose = item.segments[-1].dose_mg if item.segments else trial.dose_mg
            rows.append(
                [
                    para(f"<b>{text(trial.drug.name)}</b>", "cell"),
                    para(text(trial.drug.drug_class), "cell"),
                    para(trd.format_dose(dose), "cell"),
                    para(f"{trial.start_date:%Y-%m-%d}", "cell"),
                    para(str(item.days_at_adequate_dose), "cell"),
                ]
            )
        story.append(grid_table(rows, [45 * mm, 40 * mm, 30 * mm, 25 * mm, 40 * mm]))
    else:
        story.append(para("No ongoing medicine is recorded.", "small"))
    therapies = [t for t in history.therapies if t.end_date is None and t.start_date <= as_of]
    if therapies:
        names = "; ".join(
            f"{t.get_kind_display()}{f' ({t.detail})' if t.detail else ''} since "
            f"{t.start_date:%Y-%m-%d}"
            for t in therapies
        )
        story.append(para(f"<b>Ongoing therapies:</b> {text(names)}", "small"))
    return story


def warnings_section(found) -> list:
    story = [para("Warnings from the recorded history", "h2")]
    if not found:
        return story + [
            para(
                "No interaction, washout, dose or duplicate-class warnings for "
                "the recorded trials.",
                "small",
            )
        ]
    rows = [
        [
            para(f"<b>{SEVERITY_LABEL.get(w.severity, w.severity.upper())}</b>", "cell"),
            [
                para(text(w.message), "cell"),
                para(f"Sources: {text('; '.join(w.sources))}", "muted"),
            ],
        ]
        for w in found
    ]
    story.append(
        grid_table(
            rows,
            [24 * mm, FRAME_WIDTH - 24 * mm],
            header=False,
            style=[
                ("LINEBEFORE", (0, 0), (0, -1), 2.5, INK),
            ],
        )
    )
    story.append(
        para(
            "Derived from the trials as recorded (dates, doses, drug classes), for "
            "the clinician to check; not a prescribing decision.",
            "muted",
        )
    )
    return story


TRIAL_COLUMNS = (
    ("Drug (class)", 27),
    ("Dates", 23),
    ("Doses (mg/day)", 24),
    ("Adherence", 19),
    ("Outcome recorded", 21),
    ("Outcome from scores", 29),
    ("Days at adequate dose", 17),
    ("Assessment", 20),
)


def trial_table(history) -> list:
    story = [para("Trials", "h2")]
    rows = [header_row(*(label for label, _ in TRIAL_COLUMNS))]
    for trial, item, measured, disagrees, measurement in history.antidepressant_rows():
        doses = (
            " → ".join(trd.format_dose(s.dose_mg) for s in item.segments)
            if item and item.segments
            else trd.format_dose(trial.dose_mg)
        )
        if item is None:
            assessment = "not evaluated (starts after today)"
        elif item.counts_toward_trd:
            assessment = "<b>Counts toward TRD</b>"
        elif item.adequate:
            assessment = "Adequate; does not count"
        else:
            assessment = "Not adequate"
        if measured:
            scored = text(measured.short)
        elif measurement is not None and measurement.explanation:
            scored = text(measurement.explanation)  # e.g. "too early (day 7 of 28)"
        else:
            scored = "–"
        if disagrees:
            scored += " <b>(differs from recorded)</b>"
        end = f"{trial.end_date:%Y-%m-%d}" if trial.end_date else "ongoing"
        stopped = f"<br/>stopped: {text(trial.reason_stopped)}" if trial.reason_stopped else ""
        rows.append(
            [
                para(f"<b>{text(trial.drug.name)}</b><br/>{text(trial.drug.drug_class)}", "cell"),
                para(f"{trial.start_date:%Y-%m-%d} →<br/>{end}", "cell"),
                para(text(doses), "cell"),
                para(text(trial.get_adherence_display()), "cell"),
                para(text(trial.get_outcome_display()) + stopped, "cell"),
                para(scored, "cell"),
                para(str(item.days_at_adequate_dose) if item else "", "right"),
                para(assessment, "cell"),
            ]
        )
    if len(rows) == 1:
        story.append(para("No trials recorded.", "small"))
        return story
    story.append(grid_table(rows, [width * mm for _, width in TRIAL_COLUMNS]))
    return story


def timeline_drawing(timeline, width: float) -> Drawing:
    """The timeline geometry (pixels, y down) as a ReportLab drawing (points, y up)."""
    scale = width / timeline.width
    height = timeline.height
    group = Group()

    def flip(y, h=0):
        return height - y - h

    def label(x, y, value, size=11, *, bold=False, color=INK, anchor="start"):
        group.add(
            String(
                x,
                y,
                str(value),
                fontName=BOLD if bold else FONT,
                fontSize=size,
                fillColor=color,
                textAnchor=anchor,
            )
        )

    for tick in timeline.ticks:
        group.add(
            Line(
                tick.x,
                flip(0),
                tick.x,
                flip(timeline.axis_y),
                strokeColor=colors.HexColor("#dddddd"),
                strokeWidth=0.8,
            )
        )
        label(tick.x, flip(timeline.axis_y + 16), tick.label, 11, color=MUTED, anchor="middle")
    for row in timeline.rows:
        outline = row.outline
        kind = "therapy" if outline.css == "therapy" else "trial"
        box = (outline.x, flip(outline.y, outline.height), outline.width, outline.height)
        group.add(Rect(*box, fillColor=FILL[kind], strokeColor=None))
        for step in row.steps:
            group.add(
                Rect(
                    step.x,
                    flip(step.y, step.height),
                    step.width,
                    step.height,
                    fillColor=FILL[step.css],
                    strokeColor=None,
                )
            )
            if step.width > 30:
                dark = step.css == "dose-adequate" and step.height > 14
                label(
                    step.x + 3,
                    flip(row.y + 18),
                    step.label,
                    10,
                    color=colors.white if dark else INK,
                )
        # The outline on top of the dose steps, so a counting trial's thick frame shows.
        group.add(Rect(*box, fillColor=None, strokeColor=INK, strokeWidth=3 if row.counts else 0.8))
        label(4, flip(row.y + 11), row.label, 12, bold=True)
        label(
            4,
            flip(row.y + 24),
            row.sublabel,
            10,
            bold=row.counts,
            color=INK if row.counts else MUTED,
        )
    for lane in timeline.lanes:
        label(4, flip(lane.y + 11), lane.label, 12, bold=True)
        label(4, flip(lane.y + 24), lane.sublabel, 10, color=MUTED)
        for index, band in enumerate(lane.bands):
            group.add(
                Rect(
                    band.x,
                    flip(band.y, band.height),
                    band.width,
                    band.height,
                    fillColor=colors.HexColor(BAND_GREYS[min(index, 4)]),
                    strokeColor=None,
                )
            )
            if band.height >= 9:
                label(lane.band_label_x, flip(band.y + band.height - 2), band.label, 9, color=MUTED)
        points = [(p.x, flip(p.y)) for p in lane.points]
        if len(points) > 1:
            group.add(
                PolyLine([c for point in points for c in point], strokeColor=INK, strokeWidth=1.5)
            )
        for point, (x, y) in zip(lane.points, points, strict=True):
            group.add(Circle(x, y, 3.5, fillColor=INK, strokeColor=colors.white, strokeWidth=0.8))
            label(x, y + 6, point.label, 10, bold=True, anchor="middle")
    if timeline.today_x is not None:
        group.add(
            Line(
                timeline.today_x,
                flip(0),
                timeline.today_x,
                flip(timeline.axis_y),
                strokeColor=INK,
                strokeDashArray=[4, 3],
                strokeWidth=1,
            )
        )
    group.scale(scale, scale)
    drawing = Drawing(width, height * scale)
    drawing.add(group)
    return drawing


def timeline_section(history) -> list:
    timeline = build_timeline(
        history.evaluation, history.therapies, history.scores, width=CHART_WIDTH
    )
    heading = para("Timeline", "h2")
    if timeline.empty:
        return [heading, para("No trials, therapies or scores recorded yet.", "small")]
    legend = (
        "Dark fill: at or above the adequate dose; light grey: below it (bar height "
        "follows the dose, figures in mg/day). <b>Thick outline</b>: counts toward TRD. "
        "Green bar: therapy. Dashed line: today."
    )
    if timeline.lanes:
        legend += (
            " Scores: black line and dots, over the scale's severity bands (darker = more severe)."
        )
    return [KeepTogether([heading, timeline_drawing(timeline, FRAME_WIDTH), para(legend, "muted")])]


def score_trend(history) -> list:
    as_of = history.evaluation.as_of
    scores = [s for s in history.scores if s.date <= as_of and s.scale in scales.SCALES]
    story = [para("Score trend", "h2")]
    if not scores:
        return story + [para("No rating-scale scores recorded.", "small")]
    by_scale = {}
    for score in scores:
        by_scale.setdefault(score.scale, []).append(score)
    lines = []
    for code, series in by_scale.items():
        spec = scales.SCALES[code]
        first, last = series[0], series[-1]
        change = ""
        if len(series) > 1 and first.total:
            percent = round(100 * (first.total - last.total) / first.total)
            change = f" ({abs(percent)}% {'lower' if percent >= 0 else 'higher'})"
        lines.append(
            f"<b>{spec.name}</b>: {first.total} ({first.band}) on {first.date:%Y-%m-%d}"
            + (
                f" → {last.total} ({last.band}) on {last.date:%Y-%m-%d}{change}"
                if len(series) > 1
                else ""
            )
            + f"; {len(series)} score{'s' if len(series) != 1 else ''}. "
            f"Remission: ≤ {spec.remission_max}."
        )
    story.append(bullets(lines, "small"))
    rows = [header_row("Date", "Scale", "Total", "Severity band", "PHQ-9 item 9")]
    for code, series in by_scale.items():
        for score in series:
            item9 = score.suicide_item
            rows.append(
                [
                    para(f"{score.date:%Y-%m-%d}", "cell"),
                    para(scales.SCALES[code].name, "cell"),
                    para(f"<b>{score.total}</b> / {scales.SCALES[code].max_total}", "cell"),
                    para(text(score.band), "cell"),
                    para(
                        "" if item9 is None else (f"<b>{item9}</b> (above 0)" if item9 else "0"),
                        "cell",
                    ),
                ]
            )
    story += [Spacer(1, 2 * mm), grid_table(rows, [28 * mm, 28 * mm, 24 * mm, 50 * mm, 50 * mm])]
    return story


def staging_section(stages) -> list:
    msm = stages.maudsley
    maudsley = [
        para("Staging of treatment resistance", "h2"),
        para("Maudsley Staging Method", "h3"),
    ]
    if msm is None:
        maudsley.append(para("<b>Not staged</b>: no trial counts toward TRD yet."))
    else:
        maudsley += msm_table(msm)
    maudsley.append(
        para(
            "Fekadu et al. 2009 (J Clin Psychiatry 70:177–184); table as in "
            "Fekadu, Donocik &amp; Cleare, BMC Psychiatry 2018 (Table 3). Failed "
            "antidepressants are the different drugs counting toward TRD above; "
            "augmentation (14 days or more) and ECT count inside the current "
            "episode only.",
            "muted",
        )
    )
    classes = list(stages.failed_classes)
    if stages.failed_bilateral_ect:
        classes.append("bilateral (bitemporal or bifrontal) ECT, failed course")
    story = [
        KeepTogether(maudsley),
        KeepTogether(
            [
                para("Thase–Rush stage", "h3"),
                para(
                    f"<b>Stage {stages.stage_name}</b>: "
                    + (
                        f"classes with a failed adequate trial: {text(', '.join(classes))}."
                        if stages.failed_classes
                        else "no adequate trial has failed"
                        + (
                            " (a failed bilateral ECT course is recorded)."
                            if stages.failed_bilateral_ect
                            else "."
                        )
                    )
                ),
                para(
                    "I: one class failed; II: a second, different class; III: plus a TCA; IV: plus an "
                    "MAOI; V: plus a failed course of bilateral (bitemporal or bifrontal) ECT. "
                    "Classes: SSRI, SNRI, TCA (incl. tetracyclic), MAOI (irreversible), and each "
                    "other mechanism its own class (NDRI, NaSSA, SARI, RIMA ...). Thase &amp; Rush "
                    "1997; augmentation is ignored.",
                    "muted",
                ),
            ]
        ),
    ]
    return story


def msm_table(msm) -> list:
    story = [
        para(
            f"<b>{msm.score} of 15: {msm.band}</b> (mild 3–6, moderate 7–10, severe 11–15)"
            + (
                " — <b>a lower bound</b>: inputs marked ASSUMED are unknown and take their "
                "lowest category."
                if msm.lower_bound
                else ""
            )
        ),
        Spacer(1, 1.5 * mm),
    ]
    rows = [header_row("Input", "Value", "Points")]
    for key, item in msm.inputs.items():
        value = item.category
        if key == "failed_antidepressants":
            value = f"{item.value}: {value}"
        value = text(value)
        if item.assumed:
            value = f"<b>ASSUMED</b> {value}"
        if item.note:
            value += f"<br/><font color='#555555'>{text(item.note)}</font>"
        rows.append(
            [
                para(MSM_INPUT_LABELS.get(key, key), "cell"),
                para(value, "cell"),
                para(f"<b>{item.points}</b>", "right"),
            ]
        )
    rows.append(
        [
            para("<b>Total</b>", "cell"),
            para(text(msm.band), "cell"),
            para(f"<b>{msm.score}</b>", "right"),
        ]
    )
    story.append(
        grid_table(
            rows,
            [52 * mm, FRAME_WIDTH - 70 * mm, 18 * mm],
            style=[
                ("LINEABOVE", (0, -1), (-1, -1), 1, INK),
            ],
        )
    )
    return story


def discussed(discussion, *, with_note: bool = True) -> str:
    """ "Discussed 2026-11-30: declined — note" (the note left out of a de-identified sheet:
    free text may name the patient)."""
    line = (
        f"<b>Discussed {discussion.date:%Y-%m-%d}:</b> "
        f"{text(discussion.get_decision_display().lower())}"
    )
    if discussion.note and with_note:
        line += f" — {text(discussion.note)}"
    return line


def options_section(history, *, with_notes: bool = True) -> list:
    """Untried options in full, then the tried ones on one line each, each with its latest
    discussion. Sources are numbered once, in a key under the note, so each option cites them
    in a few characters."""
    flagged = history.suicide_risk is not None
    latest = history.last_discussions()
    numbers: dict[str, int] = {}
    for item in history.options:
        for source in item.option.sources:
            numbers.setdefault(source, len(numbers) + 1)

    def cited(option) -> str:
        listed = ", ".join(str(numbers[source]) for source in option.sources)
        return f"<font color='#555555'>(sources {listed})</font>"

    def linked(option) -> str:
        if flagged and option.suicide_risk_related:
            return " <b>[linked to suicide risk in the sources]</b>"
        return ""

    key = "; ".join(f"<b>{number}</b> {text(source)}" for source, number in numbers.items())
    note = Table(
        [[[para(f"<b>{NOT_A_PRESCRIPTION}</b>", "small"), para(f"Sources: {key}", "small")]]],
        colWidths=[FRAME_WIDTH],
    )
    note.setStyle(
        TableStyle([("BOX", (0, 0), (-1, -1), 0.8, INK), ("BACKGROUND", (0, 0), (-1, -1), SHADE)])
    )
    story = [para("Options for discussion", "h2"), note, Spacer(1, 2 * mm)]
    untried = [item.option for item in history.options if not item.already_tried]
    tried = [item.option for item in history.options if item.already_tried]
    if untried:
        story.append(para("Not yet tried", "h3"))
    for option in untried:
        block = [
            para(
                f"<b>{text(option.title)}</b> [{text(option.category)}]{linked(option)} "
                f"{cited(option)}",
                "body",
            ),
            para(text(option.summary), "small"),
            para(f"<b>When it is considered:</b> {text(option.considered_when)}", "small"),
        ]
        if option.cautions:
            block.append(para("<b>Cautions:</b>", "small"))
            block.append(bullets([text(c) for c in option.cautions], "small"))
        if option.key in latest:
            block.append(para(discussed(latest[option.key], with_note=with_notes), "small"))
        block.append(Spacer(1, 2.5 * mm))
        story.append(KeepTogether(block))
    if tried:
        rows = [
            [
                para("<b>already tried</b>", "cell"),
                para(
                    f"{text(option.title)}{linked(option)} {cited(option)}"
                    + (
                        f"<br/>{discussed(latest[option.key], with_note=with_notes)}"
                        if option.key in latest
                        else ""
                    ),
                    "cell",
                ),
            ]
            for option in tried
        ]
        story += [
            para("Already tried (from the record)", "h3"),
            grid_table(rows, [24 * mm, FRAME_WIDTH - 24 * mm], header=False),
        ]
    return story


def printer_name(user) -> str:
    if user is None:
        return "a removed user"
    return user.get_full_name() or user.get_username()


def write_discussion_sheet(job, path, progress):
    patient = (
        Patient.objects.active()
        .filter(practice_id=job.practice_id, pk=job.options.get("patient"))
        .first()
    )
    if patient is None:
        raise ExportError("The patient no longer exists (removed after the export was asked).")
    identity = Identity(job)
    label = identity.label(patient)
    history = patient_history(patient)
    found, stages = patient_warnings_and_staging(history)
    evaluation = history.evaluation
    progress(1, 3)

    story = []
    if history.suicide_risk is not None:
        story += suicide_risk_notice(history.suicide_risk)
    story += patient_facts(identity, patient, label, evaluation)
    story += trd_status(evaluation)
    story += current_medicines(history)
    story += warnings_section(found)
    story += trial_table(history)
    story += timeline_section(history)
    story += score_trend(history)
    story += staging_section(stages)
    progress(2, 3)
    story += options_section(history, with_notes=not identity.deidentify)

    shown = f"Pseudonym {label} (de-identified)" if identity.deidentify else f"Patient {label}"
    furniture = page_furniture(
        practice=job.practice.name,
        patient=shown,
        printed=f"Printed {today():%Y-%m-%d} by {printer_name(job.created_by)}",
    )
    document = BaseDocTemplate(
        str(path),
        pagesize=A4,
        title="TRD discussion sheet",
        author="TRD Tracker",
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP_MARGIN,
        bottomMargin=BOTTOM_MARGIN,
    )
    frame = Frame(
        MARGIN,
        BOTTOM_MARGIN,
        FRAME_WIDTH,
        PAGE_HEIGHT - TOP_MARGIN - BOTTOM_MARGIN,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    document.addPageTemplates([PageTemplate("sheet", frames=[frame], onPage=furniture)])
    document.build(story, canvasmaker=NumberedCanvas)
    progress(3, 3)
