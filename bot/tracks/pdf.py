"""The evidence export as a PDF a licensing board or a clinical competency committee can file.

A4, one column: the licensee and the legal basis first (with the citation's verification status in
plain words), then per competency the dated sessions and the levels attested, then every signature
with its amendments, and page numbers "Page n of N" on every page. DejaVu Sans (shipped with
matplotlib, a dependency already) covers accented names that the PDF core fonts cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from pathlib import Path

from fpdf.enums import XPos, YPos

from bot.kernel.pdf import FONT, GREY, Document
from bot.kernel.text import day_text
from bot.reflections.ledger import number
from bot.tracks.export import CompetencyRecord, Report, Signature

RULE = (170, 170, 170)
WARN = (160, 30, 30)


class _Document(Document):
    def __init__(self, report: Report) -> None:
        title = f"Supervised-practice evidence: {report.licensee_name}"
        super().__init__(title=title, generated_at=report.generated_at, top=18, bottom=20)
        self.report = report

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.cell(
            0,
            5,
            f"{self.report.licensee_name} · {self.report.track_name}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(2)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        generated = f"Generated {day_text(self.report.generated_at)} by mentorbot"
        self.cell(0, 5, generated, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def render_pdf(report: Report) -> bytes:
    """The export as PDF bytes."""
    pdf = _Document(report)
    pdf.add_page()
    _para(pdf, "Supervised-practice evidence record", size=17, style="B", height=9)
    _para(pdf, f"{report.licensee_name} — {report.track_name}", size=12, height=7)
    pdf.ln(3)
    _facts(pdf, report)
    _heading(pdf, "Competency evidence")
    _note(
        pdf,
        "Each competency lists the confirmed mentoring sessions in which a level was observed, "
        "then the milestone levels the supervising physician attested for each review period.",
    )
    for index, record in enumerate(report.competencies, start=1):
        _competency(pdf, index, record)
    _heading(pdf, "Attestations", then=_height(report.signatures[0]) if report.signatures else 10)
    if not report.signatures:
        _note(pdf, "No attestation has been signed yet.")
    for signature in report.signatures:
        _signature(pdf, signature, report)
    _closing(pdf)
    return bytes(pdf.output())


def write_pdf(report: Report, path: Path) -> None:
    path.write_bytes(render_pdf(report))


def _para(
    pdf: _Document,
    text: str,
    *,
    size: float = 9,
    style: str = "",
    height: float = 5,
    colour: tuple[int, int, int] = (0, 0, 0),
) -> None:
    """A left-aligned paragraph across the page, in `colour`, then back to black."""
    pdf.set_font(FONT, style, size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_text_color(0, 0, 0)


def _facts(pdf: _Document, report: Report) -> None:
    citation = report.citation
    hours = number(Fraction(report.minutes, 60))
    rows = [
        ("Licensee", f"{report.licensee_name} (Slack {report.licensee_id})"),
        ("Program", report.program_name),
        ("Track", f"{report.track_name} ({report.track_kind})"),
        *([("Jurisdiction", report.jurisdiction)] if report.jurisdiction else []),
        *([("Legal basis", f"{citation.title}\n{citation.url}")] if citation else []),
        ("Period", f"{day_text(report.start_on)} to {day_text(report.end_on)}"),
        (report.attested_by or "Supervisor", report.supervisor),
        ("Evidence", f"{report.sessions} confirmed sessions, {hours} h protected time"),
        ("Readiness", _readiness(report)),
    ]
    _table(pdf, rows, widths=(38, 136))
    if citation is not None and not citation.verified:
        pdf.ln(2)
        warning = "Citation not verified: the statute has not been read for this track."
        _para(pdf, warning, style="B", colour=WARN)
        _para(pdf, citation.note or "", colour=WARN)


def _readiness(report: Report) -> str:
    if report.ready_level is None:
        return "Not assessed on this track"
    if report.ready_on is None:
        return f"Not yet: every competency demonstrated and attested at level {report.ready_level} or above"
    days = (report.ready_on - report.start_on).days
    return f"Ready on {day_text(report.ready_on)}, {days} days after the start"


def _heading(pdf: _Document, text: str, *, then: float = 40) -> None:
    """A section heading, kept on the page with the first `then` millimetres of what follows it."""
    _keep_room(pdf, 16 + then)
    pdf.ln(4)
    _para(pdf, text, size=13, style="B", height=8)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)


def _note(pdf: _Document, text: str) -> None:
    _para(pdf, text, style="I", colour=GREY)
    pdf.ln(1)


def _competency(pdf: _Document, index: int, record: CompetencyRecord) -> None:
    _keep_room(pdf, 45)
    pdf.ln(2)
    _para(pdf, f"{index}. {record.name}", size=11, style="B", height=7)
    _note(pdf, "Evidenced by observations of: " + ", ".join(record.recorded_as))
    if record.sessions:
        rows = [
            (
                _short(s.day),
                f"{s.format}, {s.minutes} min",
                f"{s.level} ({s.recorded_as})",
                s.mentor,
                s.confirmed_by,
            )
            for s in record.sessions
        ]
        header = ("Date", "Session", "Level observed", "Mentor", "Confirmed by")
        _table(pdf, rows, widths=(28, 34, 46, 33, 33), header=header)
    else:
        _para(pdf, "No confirmed session has evidenced this competency.", colour=WARN)
    if record.attested:
        signed = [(s.review, level, _signed_by(s)) for s, level in record.attested]
        _table(pdf, signed, widths=(70, 52, 52), header=("Review", "Attested level", "Signed"))
    if record.gap_reviews:
        _para(pdf, "No evidence in: " + "; ".join(record.gap_reviews), colour=WARN)


def _keep_room(pdf: _Document, millimetres: float) -> None:
    """Start a new page rather than leave a heading alone at the bottom of this one."""
    if pdf.get_y() + millimetres > pdf.h - pdf.b_margin:
        pdf.add_page()


def _signed_by(signature: Signature) -> str:
    amended = " (amendment)" if signature.amends else ""
    return f"{signature.signed_by}, {_short(signature.signed_at)}{amended}"


def _short(day: date) -> str:
    """`10 Nov 2026`: a date in a narrow table column."""
    return f"{day.day} {day:%b %Y}"


def _signature(pdf: _Document, signature: Signature, report: Report) -> None:
    _keep_room(pdf, _height(signature))
    names = {c.competency_id: c.name for c in report.competencies}
    word = {"attested": "Attested", "returned": "Returned"}.get(signature.status, signature.status)
    amends = f", amending attestation no. {signature.amends}" if signature.amends else ""
    when = f"{day_text(signature.signed_at)} {signature.signed_at:%H:%M %Z}"
    _para(pdf, f"No. {signature.attestation_id} · {signature.review}", size=10, style="B", height=6)
    _para(pdf, f"{word} by {signature.signed_by} on {when}{amends}")
    if signature.levels:
        _table(pdf, [(names.get(cid, cid), level) for cid, level in signature.levels], widths=(80, 94))
    if signature.comments:
        label = "Comments" if signature.status == "attested" else "Reason returned"
        _para(pdf, f"{label}: {signature.comments}")
    pdf.ln(3)


def _height(signature: Signature) -> float:
    """Roughly how tall a signature's block is, in millimetres, to keep it on one page."""
    return 20 + 6.5 * len(signature.levels) + (10 if signature.comments else 0)


def _closing(pdf: _Document) -> None:
    pdf.ln(4)
    _note(
        pdf,
        "Evidence is limited to mentoring sessions confirmed by both participants and to levels recorded by "
        "the mentor in them. Attestations cannot be edited once signed; a correction appears as a separate, "
        "dated amendment. Private notes, reflections' free text, check-in answers and anonymous reports are "
        "excluded from this record by design.",
    )


def _table(
    pdf: _Document,
    rows: Sequence[Sequence[str]],
    *,
    widths: tuple[float, ...],
    header: Sequence[str] | None = None,
) -> None:
    pdf.set_font(FONT, "", 8.5)
    pdf.set_draw_color(*RULE)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        first_row_as_headings=header is not None,
        line_height=4.6,
        padding=1.2,
        text_align="LEFT",
    ) as table:
        for row in [*([header] if header else []), *rows]:
            cells = table.row()
            for value in row:
                cells.cell(str(value))
    pdf.ln(2)
