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
from fpdf.fonts import FontFace

from bot.concerns.terms import CATEGORIES
from bot.kernel.pdf import FONT, GREY, Document
from bot.kernel.text import day_text
from bot.reports.annual_charts import participation_png, retention_png, scores_png
from bot.reports.annual_data import AnnualReport
from bot.reports.hidden_figures import hidden_rows
from bot.reports.instrument_scores import NO_DATA, InstrumentCell
from bot.reports.outcomes import change_text, days_text, psych_text, score_text, wellbeing_text
from bot.reports.patient_experience import association_text
from bot.reports.retention_cohorts import ROLE_HORIZON, RetentionFigure, RetentionRow

SECTIONS = (
    "Summary",
    "Participation and meeting cadence",
    "Time to first meeting",
    "Protected hours and CME",
    "Competencies demonstrated",
    "Instrument scores",
    "Retention: participants and non-participants",
    "Patient experience by unit (association, not effect)",
    "Concerns by category and time to resolution",
    "Reciprocal learning highlights",
    "Methods",
)
(
    SUMMARY, PARTICIPATION, FIRST_MEETING, HOURS, COMPETENCIES, INSTRUMENTS, RETENTION, PATIENTS, CONCERNS,
    HIGHLIGHTS, METHODS,
) = SECTIONS  # fmt: skip


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
    _first_meeting(pdf, report)
    _hours(pdf, report)
    _competencies(pdf, report)
    pdf.add_page()
    _instruments(pdf, report)
    _retention(pdf, report)
    _patient_experience(pdf, report)
    _concerns(pdf, report)
    _highlights(pdf, report)
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
    """A ruled table whose cells wrap within their column (a long name takes two lines, never overlaps
    the next column); the header repeats when the table runs onto a new page."""
    pdf.set_font(FONT, "", 8.5)
    heading = FontFace(emphasis="BOLD", fill_color=(235, 240, 245))
    with pdf.table(
        width=sum(widths), col_widths=widths, align="LEFT", text_align="LEFT", line_height=4.2,
        borders_layout="HORIZONTAL_LINES", headings_style=heading, padding=(0.8, 1, 0.8, 0),
    ) as table:  # fmt: skip
        for values in [header, *rows]:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.ln(2)


def _people(count: int) -> str:
    """People behind a quarterly score; "–" when none of its weeks counted (hidden or no answers)."""
    return str(count) if count else "–"


def _image(pdf: FPDF, png: bytes, height: float = 62) -> None:
    import io

    pdf.image(io.BytesIO(png), x=pdf.l_margin, w=pdf.epw, h=height)
    pdf.ln(2)


def _number(value: float | None, places: int = 1, *, percent: bool = False) -> str:
    """None is "–": these figures are never withheld, only absent (no pairs, nothing resolved)."""
    if value is None:
        return "–"
    return f"{value:.0%}" if percent else f"{value:.{places}f}"


def _summary(pdf: FPDF, report: AnnualReport) -> None:
    rows = report.rows
    _para(pdf, "Annual outcome report", size=18, style="B")
    _para(
        pdf,
        f"{report.program.name} ({report.program.id}) · {day_text(report.start)} to {day_text(report.end)}",
    )
    _heading(pdf, SUMMARY)
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
    _heading(pdf, PARTICIPATION)
    rows = [
        [r.quarter, str(r.mentees_enrolled), str(r.pairs_active), str(r.confirmed_sessions),
         _number(r.sessions_per_pair), _number(r.response_rate, percent=True)]
        for r in report.rows
    ]  # fmt: skip
    _table(pdf, ["Quarter", "Mentees", "Pairs", "Sessions", "Sessions/pair", "Check-in response"], rows,
           [24, 24, 22, 26, 34, 44])  # fmt: skip
    _image(pdf, participation_png(report.rows), height=58)


def _hours(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, HOURS)
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
    _heading(pdf, COMPETENCIES)
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
    _heading(pdf, INSTRUMENTS)
    rows = [
        [r.quarter, wellbeing_text(r), change_text(r.wellbeing_change), _people(r.wellbeing_people),
         psych_text(r), change_text(r.psych_safety_change), _people(r.psych_safety_people)]
        for r in report.rows
    ]  # fmt: skip
    header = ["Quarter", "Wellbeing, 1–5", "Change", "People", "Psych. safety, 1–7", "Change", "People"]
    _table(pdf, header, rows, [20, 42, 16, 16, 42, 16, 16])
    note = "Quarterly means with 95% intervals in brackets. Change is from the quarter before, given only"
    _para(pdf, f"{note} when both quarters are shown. 'hidden' cells are explained on the Methods page.",
          size=8, grey=True)  # fmt: skip
    _image(pdf, scores_png(report.rows), height=56)
    if report.instrument_cells:
        _instrument_table(pdf, report)
    if pdf.get_y() > 250:  # keep the list's title with its first entry
        pdf.add_page()
    _para(
        pdf,
        "Validated instruments available to this program (answers appear here once surveys run):",
        style="B",
    )
    for item in report.instruments:
        status = "wording verified" if item.verified else "wording not yet verified against the source"
        _para(pdf, f"{item.name} (v{item.version}; {status}). {item.citation}", size=8, grey=True)


def _instrument_table(pdf: FPDF, report: AnnualReport) -> None:
    k = report.program.privacy.min_group_size
    rows = []
    for c in report.instrument_cells:
        share = "–" if c.share is None or c.share_low is None or c.share_high is None else (
            f"{c.share:.0%} ({c.share_low:.0%}–{c.share_high:.0%})"
        )  # fmt: skip
        people = f"fewer than {k}" if _discarded(c) else str(c.people)
        rows.append([c.instrument, c.quarter, _instrument_mean(c, k), share, change_text(c.change), people])
    _table(pdf, ["Instrument", "Quarter", "Mean (95% CI)", "At cut-off (95% CI)", "Change", "People"], rows,
           [48, 18, 36, 34, 16, 22])  # fmt: skip
    _para(pdf, INSTRUMENT_NOTE.format(k=k), size=8, grey=True)


INSTRUMENT_NOTE = (
    "Survey answers are released, unlinked, when their period closes (its end plus 7 days); a quarter is "
    "shown once its last period has closed. A month's (or quarter's) batch from fewer than {k} people is "
    "discarded, never counted: 'fewer than {k}' marks a quarter whose every batch was. People counts who "
    "answered; the mean is over answers (a monthly survey's mentee answers up to three times a quarter); "
    "'–' means no answers."
)


def _discarded(cell: InstrumentCell) -> bool:
    """Answers were given, but every batch of the quarter was discarded for having fewer than k."""
    return cell.withheld > 0 and cell.mean is None and not cell.people


def _instrument_mean(cell: InstrumentCell, k: int) -> str:
    if _discarded(cell):
        return f"hidden (fewer than {k})"
    if cell.mean is None and cell.hidden not in ("", NO_DATA):
        return f"hidden ({cell.hidden})"
    return score_text(cell.mean, cell.low, cell.high, cell.hidden)


def _first_meeting(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, FIRST_MEETING)
    whole = report.first_meetings.period
    if not whole.started:
        _para(pdf, "No pair started in the period.", grey=True)
        return
    days = days_text(whole.median, whole.q1, whole.q3, whole.hidden)
    _para(pdf, f"{whole.started} pairs started in the period; {whole.not_met} had no session by "
               f"{day_text(report.end)}. Days from pairing to the first session: median {days}.")  # fmt: skip
    rows = [
        [r.quarter, str(r.pairs_started), str(r.pairs_not_met),
         days_text(r.first_meeting_median_days, r.first_meeting_q1_days, r.first_meeting_q3_days,
                   r.first_meeting_hidden)]
        for r in report.rows
    ]  # fmt: skip
    _table(pdf, ["Quarter of pairing", "Pairs started", "Not met yet", "Days to first session: median (IQR)"],
           rows, [36, 30, 30, 78])  # fmt: skip


def _retention(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, RETENTION)
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
    if section.roles:
        roles = [[r.role, _figure(r.row.participants), _figure(r.row.others), _difference(r.row)]
                 for r in section.roles]  # fmt: skip
        _para(pdf, f"By HR role, at {ROLE_HORIZON} months:", style="B")
        _table(
            pdf, ["Role", "Participants", "Non-participants", "Difference (95% CI)"], roles, [30, 38, 42, 64]
        )


def _patient_experience(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, PATIENTS)
    found = report.patient_experience
    if found is None:
        given = "No patient-experience file was given"
        _para(pdf, f"{given} (mentorbot report ... --patient-experience FILE.csv).", grey=True)
        return
    k = report.program.privacy.min_group_size
    enrolled = {r.quarter: r.mentees_enrolled for r in report.rows}
    _para(pdf, f"Unit-level scores from {found.source}, beside participation on each unit as the file "
               "gives it and all the program's mentees that quarter. Units, not people, are compared: "
               "this is an association, not an effect of mentoring.")  # fmt: skip
    rows = [
        [u.quarter, u.unit[:28], f"{u.score:g}", str(u.respondents), unit_participants(u.participants, k),
         str(enrolled.get(u.quarter, "–"))]
        for u in found.rows
    ]  # fmt: skip
    empty = [["–", "(no rows in the report's quarters)", "", "", "", ""]]
    header = ["Quarter", "Unit", "Score", "Respondents", "Participants", "All mentees"]
    _table(pdf, header, rows or empty, [20, 52, 16, 26, 26, 30])
    _para(pdf, association_text(found), size=8.5, grey=True)


def unit_participants(count: int | None, k: int) -> str:
    if count is None:
        return "not given"
    return str(count) if count == 0 or count >= k else f"fewer than {k}"


def _figure(figure: RetentionFigure) -> str:
    if figure.rate is None or figure.low is None or figure.high is None:
        return "null (none eligible)" if figure.eligible == 0 else f"hidden ({figure.hidden})"
    return f"{figure.rate:.0%} of {figure.eligible} ({figure.low:.0%}–{figure.high:.0%})"


def _difference(row: RetentionRow) -> str:
    if row.difference is None or row.low is None or row.high is None:
        return "null: not shown"
    return f"{row.difference * 100:+.0f} pts ({row.low * 100:+.0f} to {row.high * 100:+.0f}) {row.verdict}"


def _concerns(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, CONCERNS)
    k = report.program.privacy.min_group_size
    totals: Counter[str] = Counter()
    for row in report.rows:
        for part in filter(None, row.concerns_by_category.split("; ")):
            category, _, count = part.partition("=")
            totals[category] += int(count)
    rows = [
        [CATEGORIES.get(category, category), str(n) if n >= k else f"fewer than {k}"]
        for category, n in sorted(totals.items(), key=lambda item: CATEGORIES.get(item[0], item[0]))
    ]
    _table(pdf, ["Category", "Concerns in the period"], rows or [["(none)", "0"]], [90, 60])
    timing = [[r.quarter, str(r.concerns), str(r.concerns_resolved), _number(r.median_days_to_resolution, 0)]
              for r in report.rows]  # fmt: skip
    _table(pdf, ["Quarter", "Raised", "Resolved", "Median days to resolution"], timing, [30, 30, 30, 60])


def _highlights(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, HIGHLIGHTS)
    if not report.highlights:
        _para(pdf, "No reflection in the period was shared with consent.", grey=True)
        return
    _para(pdf, "What mentors and mentees said they learned from each other, shared by their authors for the "
               "program; shown without names or dates.", grey=True)  # fmt: skip
    for role, text in report.highlights:
        _para(pdf, f"A {role}: “{text}”", size=9)


def _methods(pdf: FPDF, report: AnnualReport) -> None:
    _heading(pdf, METHODS)
    for title, text in _method_notes(report.program.privacy.min_group_size):
        if pdf.get_y() > 262:  # keep each title with its text
            pdf.add_page()
        _para(pdf, title, style="B", size=9)
        _para(pdf, text, size=8.5)
    if pdf.get_y() > 245:  # keep the title with its table
        pdf.add_page()
    _para(pdf, "Figures hidden in this report", style="B", size=9)
    rows = hidden_rows(report)
    if not rows:
        _para(pdf, "None: every figure over people passed the rules.", size=8.5)
        return
    _table(pdf, ["Figure", "Why it is hidden"], [list(row) for row in rows], [84, 90])


def _method_notes(k: int) -> list[tuple[str, str]]:
    """The methods page: what each figure means, and what the anonymity rules hide."""
    return [
        ("Definitions", " ".join([
            "A mentee is in a pair on a day their pair was active; sessions count once",
            "confirmed by the other",
            "side. Protected hours are the confirmed sessions' durations. Competencies count",
            "the first confirmed",
            "demonstration per mentee and competency. Time to resolution runs from the Monday of the week a",
            "concern arrived. Time to first meeting runs from the day a pair started",
            "(program timezone) to the",
            "day of its first session logged with /reflect and not disputed; pairs with none by the report's",
            "last day are counted as not met yet, and the median and quartiles rest on the pairs that met;",
            f"the interquartile range is given only when at least {2 * k} pairs met (else the median alone).",
        ])),
        ("Intervals and changes", " ".join([
            "Quarterly means carry 95% t-intervals. One mentee answers many weeks, so each",
            "mentee's wellbeing",
            "answers are one cluster (cluster-robust standard error, people minus one degrees of freedom).",
            "Team-climate answers are unlinked from people, so each counts alone and that",
            "interval is narrower",
            "than a per-person one would be. Proportions (retention, an instrument's cut-off) carry Wilson",
            "intervals. A change from the quarter before is given only when both quarters are shown.",
        ])),
        ("Retention", " ".join([
            "For h months, an employee is eligible once h months have passed since their",
            "start, and retained if",
            "they had not left by then; leaving is HR's end date or the day Slack deactivated the account,",
            "whichever is earlier. Participants are those HR flagged or, where the flag is",
            "blank, anyone who was",
            "in a pair. The difference uses Newcombe's hybrid score interval; one whose interval holds 0 is",
            "reported as no detectable difference. Roles come from the HR snapshot.",
        ])),
        ("Patient experience", " ".join([
            "Unit-level scores from an outside survey, with participation per unit as the",
            "file gives it (the bot",
            "knows no one's unit). Nothing is joined person by person. A rank correlation across units is an",
            "association, not an effect: units differ in case mix, staffing and who answers the survey.",
        ])),
        ("Suppression rules", " ".join([
            f"Weekly averages pass the digest's rules first: at least {k} answers, no mentor",
            "seeing enough of them",
            f"to subtract their own, and no other shown week differing by 1 to {k - 1}",
            "people. Every figure over",
            "people in this report (quarterly scores, time to first meeting, retention,",
            "instruments) must then",
            f"rest on at least {k} people, and set beside any one or two figures of the same measure already",
            "shown (other quarters, roles, horizons, participants or not) it must not let a",
            "reader form a group",
            f"of 1 to {k - 1} people by intersecting or subtracting them. Figures are decided in the order",
            "printed; the first keeps its place and the later one is hidden. Concern categories with fewer",
            f"than {k} concerns are not counted out; unit participation under {k} reads 'fewer than {k}'.",
        ])),
        ("Homogeneity guard", " ".join([
            "A figure whose answers are all identical is hidden however many people gave",
            "them: its mean would",
            "be each person's answer. For a rate this means everyone or no one (all",
            "retained, all at or above",
            "a cut-off); for time to first meeting, every pair meeting after the same number of days.",
        ])),
        ("What is hidden and why", " ".join([
            "Concern senders are never identified: concerns carry no person, channel or time. Team-climate",
            "answers are unlinked from people when their week closes. Learning highlights appear only with",
            "their author's consent and without names. Nothing in this report names a mentee or mentor.",
            "A hidden cell reads 'hidden', never 0; each one is listed below with its reason.",
        ])),
        ("Instruments", " ".join([
            "Definitions are versioned data with citation and licence. Wording not yet checked against the",
            "published source is marked so; treat those scores as provisional.",
        ])),
    ]  # fmt: skip
