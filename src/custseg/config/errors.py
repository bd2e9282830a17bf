"""Config errors in config terms: the key at fault, the allowed values and a did-you-mean.

pydantic reports each problem as data (where: a location tuple; what: an error type with its
context), so the message is built from that data and the schema itself, never from an error
text. Locations pass through the tags of tagged unions (`segment=kmeans` puts 'kmeans' in the
location): the schema walk below recognises and drops them, so the key reads as written.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from custseg.hints import did_you_mean


class ConfigError(ValueError):
    """A command line or config value that cannot run; the message names the key."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def _strip(tp: Any) -> Any:
    """Annotated[X, ...] -> X."""
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def _members(tp: Any) -> list[Any]:
    """The alternatives of a union (each stripped), or [tp]."""
    tp = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [_strip(t) for t in get_args(tp)]
    return [tp]


def _tag_of(model: type[BaseModel]) -> set[str]:
    """Tags a union member answers to: its `name`/`kind`/`type` literal, or on/off."""
    tags = set()
    for field in ("name", "kind", "type", "enabled"):
        info = model.model_fields.get(field)
        if info is None:
            continue
        for value in get_args(_strip(info.annotation)):
            tags.add({True: "on", False: "off"}.get(value, str(value)))
    return tags


def _literals(tp: Any) -> list[Any]:
    """Allowed values when `tp` is (a union with) a Literal; [] otherwise."""
    out: list[Any] = []
    for member in _members(tp):
        if get_origin(member) is typing.Literal:
            out += list(get_args(member))
    return out


def _constraints(tp: Any) -> list[Any]:
    """The constraint objects (Ge, Le, MinLen, ...) an annotation carries, through Annotated,
    Field(...) and unions."""
    out: list[Any] = []
    if get_origin(tp) is typing.Annotated:
        base, *meta = get_args(tp)
        for m in meta:
            out += list(m.metadata) if isinstance(m, FieldInfo) else [m]
        return out + _constraints(base)
    if get_origin(tp) in (Union, types.UnionType):
        for member in get_args(tp):
            out += _constraints(member)
    return out


def _walk(root: type[BaseModel], loc: Sequence[Any]) -> tuple[list[str], Any, Any, list[Any]]:
    """(key parts, type at the location, type of its parent, the location's constraints) with
    union tags dropped."""
    parts: list[str] = []
    tp: Any = root
    parent: Any = None
    meta: list[Any] = []
    i = 0
    while i < len(loc):
        part = loc[i]
        models = [m for m in _members(tp) if isinstance(m, type) and issubclass(m, BaseModel)]
        if len(models) > 1:  # a tagged union: this location part is the tag
            picked = [m for m in models if str(part) in _tag_of(m)]
            if picked:
                tp = picked[0]
                i += 1
                continue
        if len(models) == 1 and isinstance(part, str):
            model = models[0]
            field = next((f for n, f in model.model_fields.items()
                          if part in (n, f.alias)), None)  # fmt: skip
            parent, tp = model, (field.annotation if field is not None else None)
            meta = [*field.metadata, *_constraints(field.annotation)] if field else []
            parts.append(part)
        elif get_origin(_strip(tp)) is dict or any(get_origin(m) is dict for m in _members(tp)):
            d = next(m for m in _members(tp) if get_origin(m) is dict)
            key_t, val_t = get_args(d)
            if i + 1 < len(loc) and loc[i + 1] == "[key]":
                parent, tp, meta = d, key_t, _constraints(key_t)
                parts.append(str(part))
                i += 2
                continue
            parent, tp, meta = d, val_t, _constraints(val_t)
            parts.append(str(part))
        elif isinstance(part, int):
            lst = next((m for m in _members(tp) if get_origin(m) is list), None)
            parent, tp = lst, (get_args(lst)[0] if lst is not None else None)
            meta = _constraints(tp)
            parts.append(f"[{part}]")
        elif len(_members(tp)) > 1 and not models:
            pass  # a plain union (auto | a number) names its member: not part of the key
        else:
            parts.append(str(part))
            parent, tp, meta = tp, None, []
        i += 1
    return parts, tp, parent, meta


def _key(parts: Iterable[str]) -> str:
    return ".".join(parts).replace(".[", "[")


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


BOUNDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}


def allowed(tp: Any, meta: Sequence[Any]) -> str:
    """What a value at this place may be, in words: 'a whole number from 0 to 1', 'a number
    above 0 (or null)'; the fix a range or type error names."""
    members = _members(tp)
    whole = int in members and float not in members
    noun = "a whole number" if whole else "a number"
    bounds = {n: getattr(m, n) for m in meta for n in BOUNDS if getattr(m, n, None) is not None}
    if "ge" in bounds and "le" in bounds:
        text = f"{noun} from {_number(bounds['ge'])} to {_number(bounds['le'])}"
    else:
        text = " and ".join(f"{BOUNDS[n]} {_number(v)}" for n, v in bounds.items())
        text = f"{noun} {text}".strip()
    return text + (" (or null)" if type(None) in members else "")


def _describe(error: dict[str, Any], root: type[BaseModel], prefix: str) -> tuple[str, str]:
    """(key, one sentence) for one pydantic error."""
    parts, tp, parent, meta = _walk(root, error["loc"])
    key = _key([prefix, *parts] if prefix else parts)
    kind, given, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    nullable = type(None) in _members(tp)
    if kind == "extra_forbidden":
        siblings = []
        if isinstance(parent, type) and issubclass(parent, BaseModel):
            siblings = [f.alias or n for n, f in parent.model_fields.items()]
        near = did_you_mean(parts[-1], siblings)
        return key, (f"{key}: unknown key{near}; valid keys here: {', '.join(siblings)}. "
                     f"To add a key on purpose, write +{key}=...")  # fmt: skip
    if kind == "missing":
        return key, f"{key} is required and has no value; set {key}=... on the command line"
    literals = _literals(tp)
    if kind in ("literal_error", "enum") and literals:
        shown = ", ".join(map(str, literals))
        return key, f"{key}: {given!r} is not one of {shown}{did_you_mean(str(given), literals)}"
    if kind == "union_tag_invalid":
        field = str(ctx.get("discriminator", "")).strip("'\"")
        key = f"{key}.{field}" if field.isidentifier() else key
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag"))
        return key, f"{key}: {tag!r} is not one of {', '.join(tags)}{did_you_mean(tag, tags)}"
    what = allowed(tp, meta)
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return key, f"{key}: {given!r} is not a whole number; allowed: {what}"
    if kind in ("float_parsing", "float_type"):
        return key, f"{key}: {given!r} is not a number; allowed: {what}"
    if kind == "finite_number":
        return key, f"{key}: {given!r} is not a finite number; allowed: {what}"
    if kind in ("bool_parsing", "bool_type"):
        return key, f"{key}: {given!r} is not true or false"
    if kind in BOUNDS_ERRORS:
        bound = BOUNDS_ERRORS[kind]
        return key, (f"{key}: {given!r} must be {BOUNDS[bound]} {_number(ctx.get(bound))}; "
                     f"allowed: {what}")  # fmt: skip
    if kind == "string_too_short":
        return key, f"{key}: empty; give a value{' (or null)' if nullable else ''}"
    if kind == "too_short":
        return key, (f"{key}: needs at least {ctx.get('min_length')} value(s), got {given!r}"
                     f"{' (or null)' if nullable else ''}")  # fmt: skip
    if kind == "too_long":
        most = ctx.get("max_length")
        return key, (f"{key}: must be empty ([]), got {given!r}" if most == 0 else
                     f"{key}: at most {most} value(s) allowed, got {given!r}")  # fmt: skip
    if kind in ("string_type", "list_type", "dict_type") and given is None:
        return key, f"{key}: null is not allowed here; give a value"
    if kind == "value_error":
        return key, f"{key}: {str(ctx.get('error', error['msg']))}"
    message = str(error["msg"])
    return key, f"{key}: {message[:1].lower() + message[1:]} (got {given!r})"


BOUNDS_ERRORS = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le",
                 "less_than": "lt"}  # fmt: skip


def from_validation(exc: ValidationError, root: type[BaseModel], prefix: str = "") -> ConfigError:
    """One ConfigError listing every problem pydantic found, each by its key."""
    seen: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        key, text = _describe(error, root, prefix)
        seen.setdefault(key, []).append(text)
    # a value that fits no member of a union (auto | a whole number) gets one line per member
    lines = [texts[0] + "".join(f"; or{t.split(':', 1)[-1]}" for t in texts[1:])
             for texts in seen.values()]
    first_key = next(iter(seen), None)
    if len(lines) == 1:
        return ConfigError(lines[0], first_key)
    return ConfigError(f"{len(lines)} config values are invalid:\n  " + "\n  ".join(lines),
                       first_key)  # fmt: skip
