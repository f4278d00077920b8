"""The annual outcome report as a PDF a GME committee can read: A4, a one-page summary, then one section
per question the committee asks, a methods page last. Every number comes from `AnnualReport`, whose
figures already passed the anonymity rules; hidden cells say "hidden", never 0. Charts are PNGs from
bot.reports.annual_charts. DejaVu Sans (shipped with matplotlib) covers accented text.
"""

from __future__ import annotations

import logging
from collections import Counter

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.kernel.pdf import FONT, GREY, Document
from bot.kernel.text import day_text
from bot.reports.annual_charts import participation_png, retention_png, scores_png
from bot.reports.annual_data import AnnualReport
from bot.reports.retention_cohorts import RetentionFigure, RetentionRow

SECTIONS = (
    "Summary",
    "Participation and meeting cadence",
    "Protected hours and CME",
    "Competencies demonstrated",
    "Instrument scores",
    "Retention: participants and non-participants",
    "Concerns by category and time to resolution",
    "Reciprocal learning highlights",
    "Methods",
)


class _Document(Document):
    def __init__(self, report: AnnualReport) -> None:
        title = f"Annual outcome report: {report.program.name}"
        super().__init__(title=title, generated_at=report.generated_at, top=16, bottom=18)
        self.report = report

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        r = self.report
        self.cell(0, 5, f"{r.program.name} · {r.start} to {r.end} · generated {day_text(r.generated_at)}")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def render_annual_pdf(report: AnnualReport) -> bytes:
    """The report as PDF bytes."""
    # fpdf2's font subsetting logs hundreds of INFO lines per font; an operator needs none of them.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    pdf = _Document(report)
    pdf.add_page()
    _summary(pdf, report)
    pdf.add_page()
    _participation(pdf, report)
    _hours(pdf, report)
    _competencies(pdf, report)
    pdf.add_page()
    _instruments(pdf, report)
    pdf.add_page()
    _retention(pdf, report)
    _concerns(pdf, report)
    _highlights(pdf, report)
    pdf.add_page()
    _methods(pdf, report)
    return bytes(pdf.output())


def _heading(pdf: FPDF, title: str) -> None:
    if pdf.get_y() > 240:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9.5)


def _para(pdf: FPDF, text: str, *, size: float = 9.5, style: str = "", grey: bool = False) -> None:
    pdf.set_font(FONT, style, size)
    if grey:
        pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1)


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: list[int]) -> None:
    pdf.set_font(FONT, "B", 8.5)
    pdf.set_fill_color(235, 240, 245)
    for title, width in zip(header, widths, strict=True):
        pdf.cell(width, 6, title, border="B", fill=True)
    pdf.ln()
    pdf.set_font(FONT, "", 8.5)
    for row in rows:
        for value, width in zip(row, widths, strict=True):
            pdf.cell(width, 5.5, value, border="B")
        pdf.ln()
    pdf.ln(2)


def _image(pdf: FPDF, png: bytes, height: float = 62) -> None:
    import io

    pdf.image(io.BytesIO(png), x=pdf.l_margin, w=pdf.epw, h=height)
    pdf.ln(2)


def _number(value: float | None, places: int = 1, *, percent: bool = False) -> str:
    if value is None:
        return "hidden / none"
    return f"{value:.0%}" if percent else f"{value:.{places}f}"


def _summary(pdf: FPDF, report: AnnualReport) -> None:
    rows = report.rows
    _para(pdf, "Annual outcome report", size=18, style="B")
    _para(
        pdf,
        f"{report.program.name} ({report.program.id}) · {day_text(report.start)} to {day_text(report.end)}",
    )
    _heading(pdf, SECTIONS[0])
    sessions, hours = sum(r.confirmed_sessions for r in rows), sum(r.confirmed_hours for r in rows)
    sent, answered = sum(r.prompts_sent for r in rows), sum(r.prompts_answered for r in rows)
    concerns = sum(r.concerns for r in rows)
    lines = [
        ["Mentees in a pair (most in one quarter)", str(max((r.mentees_enrolled for r in rows), default=0))],
        ["Mentors active (most in one quarter)", str(max((r.mentors_active for r in rows), default=0))],
        ["Confirmed mentoring sessions", str(sessions)],
        ["Protected hours (confirmed sessions)", f"{hours:.1f}"],
        ["Check-in response rate", _number(answered / sent if sent else None, percent=True)],
        ["Competencies first demonstrated", str(sum(r.competencies_demonstrated for r in rows))],
        ["Concerns raised (anonymous)", str(concerns)],
        ["12-month retention, participants vs non-participants", _retention_summary(report)],
    ]
    _table(pdf, ["Measure", "This period"], lines, [110, 64])
    _para(pdf, _reading_note(report), grey=True)


def _retention_summary(report: AnnualReport) -> str:
    row = next((r for r in report.retention.table if r.months == 12), None)
    if row is None or row.participants.rate is None or row.others.rate is None:
        return "not shown (see Retention)"
    return f"{row.participants.rate:.0%} vs {row.others.rate:.0%} ({row.verdict})"


def _reading_note(report: AnnualReport) -> str:
    k = report.program.privacy.min_group_size
    return (
        f"How to read this report: every average rests on at least {k} people and passes the same anonymity "
        "rules as the weekly digest; a cell reading 'hidden' was withheld to protect someone, not zero. "
        "Retention compares people in the program with colleagues in the same HR scope who were not; it is "
        "an association, not proof that mentoring caused it. The last page explains every definition."
    )


def _participation(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, SECTIONS[1])
    rows = [
        [r.quarter, str(r.mentees_enrolled), str(r.pairs_active), str(r.confirmed_sessions),
         _number(r.sessions_per_pair), _number(r.response_rate, percent=True)]
        for r in report.rows
    ]  # fmt: skip
    _table(pdf, ["Quarter", "Mentees", "Pairs", "Sessions", "Sessions/pair", "Check-in response"], rows,
           [24, 24, 22, 26, 34, 44])  # fmt: skip
    _image(pdf, participation_png(report.rows), height=58)


def _hours(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, SECTIONS[2])
    rows = [
        [r.quarter, f"{r.confirmed_hours:.1f}", str(r.mentors_active), _number(r.cme_credits),
         _number(r.cme_credits_per_mentor)]
        for r in report.rows
    ]  # fmt: skip
    _table(
        pdf,
        ["Quarter", "Protected hours", "Mentors", "CME credits", "CME per mentor"],
        rows,
        [28, 36, 28, 36, 46],
    )
    if report.program.cme is None:
        _para(pdf, "This program has no cme: settings, so credits are not computed.", grey=True)


def _competencies(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, SECTIONS[3])
    rows = [
        [r.quarter, str(r.competencies_demonstrated), _number(r.median_days_to_demonstration, 0)]
        for r in report.rows
    ]
    _table(pdf, ["Quarter", "First demonstrated", "Median days from pairing"], rows, [30, 50, 60])
    for cohort in report.readiness:
        days = "–" if cohort.median_days is None else f"{cohort.median_days:.0f} days"
        _para(
            pdf,
            f"Time to readiness, {cohort.track_name}: {cohort.ready} of {cohort.enrolled} ready; "
            f"median {days}.",
        )


def _instruments(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, SECTIONS[4])
    rows = [
        [r.quarter, _number(r.wellbeing_mean), str(r.wellbeing_answers), _number(r.psych_safety_mean),
         str(r.psych_safety_answers)]
        for r in report.rows
    ]  # fmt: skip
    _table(
        pdf,
        ["Quarter", "Wellbeing (1–5)", "Answers", "Psych. safety (1–7)", "Answers"],
        rows,
        [26, 36, 26, 44, 26],
    )
    _image(pdf, scores_png(report.rows), height=56)
    _para(
        pdf,
        "Validated instruments available to this program (answers appear here once surveys run):",
        style="B",
    )
    for item in report.instruments:
        status = "wording verified" if item.verified else "wording not yet verified against the source"
        _para(pdf, f"{item.name} (v{item.version}; {status}). {item.citation}", size=8, grey=True)


def _retention(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, SECTIONS[5])
    section = report.retention
    if section.source is None:
        _para(pdf, "No HR roster snapshot has been imported (mentorbot roster snapshot PROGRAM FILE.csv).")
        return
    _para(pdf, f"From the HR snapshot {section.source} ({section.employees} employees, imported "
               f"{section.taken_on}), counted as of {section.as_of}. 95% Wilson intervals.")  # fmt: skip
    rows = [
        [f"{r.months} months", _figure(r.participants), _figure(r.others), _difference(r)]
        for r in section.table
    ]
    _table(
        pdf, ["Horizon", "Participants", "Non-participants", "Difference (95% CI)"], rows, [20, 38, 42, 74]
    )
    _image(pdf, retention_png(section.table), height=56)


def _figure(figure: RetentionFigure) -> str:
    if figure.rate is None or figure.low is None or figure.high is None:
        return "null (none eligible)" if figure.eligible == 0 else f"hidden ({figure.hidden})"
    return f"{figure.rate:.0%} of {figure.eligible} ({figure.low:.0%}–{figure.high:.0%})"


def _difference(row: RetentionRow) -> str:
    if row.difference is None or row.low is None or row.high is None:
        return "null: not shown"
    return f"{row.difference * 100:+.0f} pts ({row.low * 100:+.0f} to {row.high * 100:+.0f}) {row.verdict}"


def _concerns(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, SECTIONS[6])
    k = report.program.privacy.min_group_size
    totals: Counter[str] = Counter()
    for row in report.rows:
        for part in filter(None, row.concerns_by_category.split("; ")):
            category, _, count = part.partition("=")
            totals[category] += int(count)
    rows = [[category, str(n) if n >= k else f"fewer than {k}"] for category, n in sorted(totals.items())]
    _table(pdf, ["Category", "Concerns in the period"], rows or [["(none)", "0"]], [90, 60])
    timing = [[r.quarter, str(r.concerns), str(r.concerns_resolved), _number(r.median_days_to_resolution, 0)]
              for r in report.rows]  # fmt: skip
    _table(pdf, ["Quarter", "Raised", "Resolved", "Median days to resolution"], timing, [30, 30, 30, 60])


def _highlights(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, SECTIONS[7])
    if not report.highlights:
        _para(pdf, "No reflection in the period was shared with consent.", grey=True)
        return
    _para(pdf, "What mentors and mentees said they learned from each other, shared by their authors for the "
               "program; shown without names or dates.", grey=True)  # fmt: skip
    for role, text in report.highlights:
        _para(pdf, f"A {role}: “{text}”", size=9)


def _methods(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, SECTIONS[8])
    for title, text in _method_notes(report.program.privacy.min_group_size):
        _para(pdf, title, style="B")
        _para(pdf, text)


def _method_notes(k: int) -> list[tuple[str, str]]:
    """The methods page: what each figure means, and what the anonymity rules hide."""
    return [
        ("Definitions", " ".join([
            "A mentee is in a pair on a day their pair was active; sessions count once confirmed",
            "by the other",
            "side. Protected hours are the confirmed sessions' durations. Competencies count the",
            "first confirmed",
            "demonstration per mentee and competency. Time to resolution runs from the Monday of the week a",
            "concern arrived.",
        ])),
        ("Retention", " ".join([
            "For h months, an employee is eligible once h months have passed since their start,",
            "and retained if",
            "they had not left by then; leaving is HR's end date or the day Slack deactivated the account,",
            "whichever is earlier. Participants are those HR flagged or, where the flag is blank,",
            "anyone who was",
            "in a pair. Intervals are Wilson score intervals; the difference uses Newcombe's hybrid score",
            "interval. A difference whose interval holds 0 is reported as no detectable difference.",
        ])),
        ("Suppression rules", " ".join([
            f"An average is shown only when at least {k} people answered, when no mentor sees enough of the",
            "answers individually to subtract their own, and when it differs from every other",
            "shown figure of",
            f"the same measure by 0 or at least {k} people. Retention horizons nest, so a horizon",
            "is shown only",
            f"if its group differs from every other shown horizon by 0 or at least {k} people. Concern",
            f"categories with fewer than {k} concerns in the period are not counted out.",
        ])),
        ("What is hidden and why", " ".join([
            "Concern senders are never identified: concerns carry no person, channel or time. Team-climate",
            "answers are unlinked from people when their week closes. Learning highlights appear only with",
            "their author's consent and without names. Nothing in this report names a mentee or mentor.",
        ])),
        ("Instruments", " ".join([
            "Definitions are versioned data with citation and licence. Wording not yet checked against the",
            "published source is marked so; treat those scores as provisional.",
        ])),
    ]  # fmt: skip
