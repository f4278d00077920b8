"""What every PDF the bot writes shares: A4 pages, the DejaVu fonts, grey small print, document metadata.

The fonts are DejaVu from matplotlib's own data (already a dependency), so text in any language a
hospital uses renders without installing system fonts.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

FONT = "DejaVu"
GREY = (90, 90, 90)


def font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


class Document(FPDF):
    """An A4 portrait document with the fonts registered and its title, author and date set."""

    def __init__(self, *, title: str, generated_at: datetime, top: float, bottom: float) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        fonts = font_dir()
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.add_font(FONT, "I", str(fonts / "DejaVuSans-Oblique.ttf"))
        self.set_margins(18, top, 18)
        self.set_auto_page_break(auto=True, margin=bottom)
        self.set_title(title)
        self.set_author("mentorbot")
        self.set_creation_date(generated_at)
