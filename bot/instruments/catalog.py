"""The shipped instrument definitions (`bot/instruments/data/*.yml`), validated strictly.

An instrument is data: its items, answer scale, reverse-scored items, scoring method and cut-offs,
with the citation and licence a committee will ask for. `verified: false` says the item wording was
not checked against the published source; reports carry that flag through rather than hide it.
Problems are reported one `FILE: key.path: reason` line each, like programs.yml.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.kernel.programs import ConfigError

SHIPPED = Path(__file__).with_name("data")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scale(_Strict):
    min: int
    max: int
    labels: dict[int, str]
    not_applicable: bool = False  # "not applicable" is offered and left out of the score

    @model_validator(mode="after")
    def _labels_cover_scale(self) -> Self:
        if self.min >= self.max:
            raise ValueError(f"min {self.min} must be below max {self.max}")
        if sorted(self.labels) != list(range(self.min, self.max + 1)):
            raise ValueError(f"labels must name every point from {self.min} to {self.max}")
        return self


class Item(_Strict):
    number: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=300)
    reverse: bool = False
    domain: str | None = None


class CutOff(_Strict):
    at_least: float
    label: str = Field(min_length=1, max_length=40)


class Scoring(_Strict):
    method: Literal["single", "mean"]
    min_answered: int = Field(ge=1)
    cutoffs: tuple[CutOff, ...] = ()


class Instrument(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    version: int = Field(ge=1)
    name: str
    short_name: str = Field(max_length=40)
    measures: str
    rates: Literal["self", "team", "mentor"]  # "mentor": reported per mentor only with k raters
    citation: str
    licence: str
    verified: bool
    verification_note: str | None = None
    stem: str
    scale: Scale
    items: tuple[Item, ...] = Field(min_length=1)
    scoring: Scoring

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        numbers = [item.number for item in self.items]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("items must be numbered 1, 2, 3 ... in order")
        if self.scoring.method == "single" and len(self.items) != 1:
            raise ValueError("scoring.method 'single' needs exactly one item")
        if self.scoring.min_answered > len(self.items):
            raise ValueError(f"scoring.min_answered exceeds the {len(self.items)} items")
        if not self.verified and not self.verification_note:
            raise ValueError("verified: false needs a verification_note saying what was not checked")
        return self

    @property
    def key(self) -> str:
        """The id with its version, stored beside every answer so a revised form never mixes in."""
        return f"{self.id}@{self.version}"


def load_instrument(path: Path) -> Instrument:
    """One definition file; ConfigError naming the file, key and reason when it is invalid."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Instrument.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML ({exc})"]) from None
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(str(path), problems) from None


@lru_cache(maxsize=1)
def shipped_instruments() -> dict[str, Instrument]:
    """Every shipped instrument by id."""
    found = [load_instrument(path) for path in sorted(SHIPPED.glob("*.yml"))]
    return {instrument.id: instrument for instrument in found}
