"""Building blocks of the typed config: a strict section model and the value types it uses.

The YAML files under conf/ are the one source of defaults. These models declare the type and
range of every key and have no defaults of their own, so a key a YAML file lacks is an error,
never a silent fallback that could disagree with the file.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from custseg.config.targets import check_target
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


def _selective(value: str) -> str:
    """A pattern that matches the empty text matches every code (they are searched, not
    matched whole): such a pattern would drop every line, never what a cleaning rule means."""
    if re.compile(value, re.IGNORECASE).search("") is not None:
        raise ValueError(
            f"{value!r} matches every product code (it matches even the empty text), so every "
            "line would be dropped; make it match something, e.g. '^GIFT_' for codes starting "
            "with GIFT_"
        )
    return value


_SAMPLE = datetime(2011, 12, 10, 10, 30, 15, tzinfo=UTC)


def _strftime(value: str) -> str:
    """A date layout must hold a year and only directives Python knows: written out for a
    known date, it must read back as that date's year."""
    hint = ("give the layout of the file's dates with %-directives, e.g. %Y-%m-%d or "
            "%d/%m/%Y %H:%M (or null to infer it)")  # fmt: skip
    try:
        back = datetime.strptime(_SAMPLE.strftime(value), value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date layout Python reads ({exc}); {hint}") from exc
    if back.year != _SAMPLE.year:
        raise ValueError(f"{value!r} has no year in it (%Y or %y); {hint}")
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
# nan and inf are refused everywhere: no threshold, weight or tolerance means anything with them
Float = Annotated[float, BeforeValidator(_not_bool), Field(allow_inf_nan=False)]
Count = Annotated[Int, Field(ge=1)]  # a whole number >= 1
Share = Annotated[Float, Field(ge=0.0, le=1.0)]  # in [0, 1]
Fraction = Annotated[Float, Field(gt=0.0, lt=1.0)]  # in (0, 1)
Positive = Annotated[Float, Field(gt=0.0)]
Text = Annotated[str, Field(min_length=1)]  # a name, id or path: empty means nothing
DateText = Annotated[str, AfterValidator(_iso_date)]
DateLayout = Annotated[str, AfterValidator(_strftime)]  # a strftime layout (data.date_format)
Regex = Annotated[str, AfterValidator(_regex)]
CodePattern = Annotated[str, AfterValidator(_regex), AfterValidator(_selective)]
Encoding = Annotated[str, AfterValidator(_encoding)]
# a class for instantiate, checked to exist without importing it
Target = Annotated[str, Field(alias="_target_", min_length=1), AfterValidator(check_target)]


def switch(value: Any) -> str:
    """Tag of an on/off group: its `enabled` value."""
    enabled = value.get("enabled") if isinstance(value, dict) else getattr(value, "enabled", None)
    return "on" if enabled is True else "off" if enabled is False else str(enabled)


class Off(Section):
    """A group switched off (`rules=none`, `tuning=none`, ...): nothing else to set."""

    enabled: Literal[False]
