"""Building blocks of the typed config: a strict section model and the value types it uses.

The YAML files under conf/ are the one source of defaults. These models declare the type and
range of every key and have no defaults of their own, so a key a YAML file lacks is an error,
never a silent fallback that could disagree with the file.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from custseg.hints import did_you_mean


class Section(BaseModel):
    """One config block: unknown keys are errors, values are read-only once checked."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, coerce_numbers_to_str=True
    )

    def dump(self) -> dict[str, Any]:
        """The block as plain data, keys as written in YAML (`_target_` included)."""
        return self.model_dump(mode="json", by_alias=True)


def _not_bool(value: Any) -> Any:
    """`true` is no number: pydantic would read it as 1."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


def _iso_date(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date like 2011-12-10 (or 2011-12-10 10:30)") from exc
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from exc
    return value


ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-15", "utf-16", "cp850")


def _encoding(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError as exc:
        raise ValueError(
            f"unknown encoding {value!r}{did_you_mean(value, ENCODINGS)}; Python knows e.g. "
            f"{', '.join(ENCODINGS)}"
        ) from exc
    return value


Int = Annotated[int, BeforeValidator(_not_bool)]
Float = Annotated[float, BeforeValidator(_not_bool)]
Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=1)]  # a whole number >= 1
Share = Annotated[float, BeforeValidator(_not_bool), Field(ge=0.0, le=1.0)]  # in [0, 1]
Fraction = Annotated[float, BeforeValidator(_not_bool), Field(gt=0.0, lt=1.0)]  # in (0, 1)
Positive = Annotated[float, BeforeValidator(_not_bool), Field(gt=0.0)]
DateText = Annotated[str, AfterValidator(_iso_date)]
Regex = Annotated[str, AfterValidator(_regex)]
Encoding = Annotated[str, AfterValidator(_encoding)]
Target = Annotated[str, Field(alias="_target_", min_length=1)]  # a class for instantiate


def switch(value: Any) -> str:
    """Tag of an on/off group: its `enabled` value."""
    enabled = value.get("enabled") if isinstance(value, dict) else getattr(value, "enabled", None)
    return "on" if enabled is True else "off" if enabled is False else str(enabled)


class Off(Section):
    """A group switched off (`rules=none`, `tuning=none`, ...): nothing else to set."""

    enabled: Literal[False]
