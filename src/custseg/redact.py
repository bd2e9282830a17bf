"""Secrets never leave the process: one redaction for everything custseg writes or prints.

Params, tags, the config copy, the report, error messages and every log record (custseg's own
and MLflow's, once `install()` ran) pass through `redact`, which masks

- the userinfo of any URL: `scheme://user:secret@host` -> `scheme://user:***@host` (the
  password may hold '@': the last '@' before the host ends it); a lone user part in an http(s)
  URL (`https://TOKEN@host`) is how tokens are usually passed, so it is masked too, while
  `postgresql://user@db` keeps its user name;
- secret-looking query parameters (`?token=`, `access_token=`, `api_key=`, `sig=`, `password=`,
  ... any case) and `password=`/`token:`-style pairs in free text;
- the values of secret-looking environment variables (`*_PASSWORD`, `*_TOKEN`, `*_SECRET*`,
  `*_API_KEY`, ...) and of secrets registered with `remember` (say, the password in
  `tracking.uri`), wherever they appear.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel

MASK = "***"
MIN_SECRET_LEN = 6  # shorter values (a '1', a 'true') would mask ordinary words

# scheme://user[:password]@ -- no '/', '?', '#', whitespace or quotes inside the userinfo
_USERINFO = re.compile(
    r"\b(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<user>[^:/?#@\s'\"<>]*)"
    r"(?::(?P<password>[^/?#\s'\"<>]*))?@",
    re.IGNORECASE,
)
_HTTP = re.compile(r"(?:.*\+)?https?", re.IGNORECASE)  # http, https, git+https, ...
_WORDS = r"password|passwd|pwd|[a-z]*secret|[a-z]*token|api_?key|private_?key|access_?key"
# in a query string: any parameter whose name is, or ends in, a secret-ish word
_QUERY = re.compile(
    rf"(?P<name>[?&;](?:[\w.-]*[_.-])?(?:{_WORDS}|key|sig|signature|credentials?|auth"
    rf"|authorization))=(?P<value>[^&#\s'\"<>]+)",
    re.IGNORECASE,
)
# in free text: `password=...` (DSNs, command lines), `token: ...` (YAML, JSON, log lines);
# not `token = ...`, which is code (a traceback's source line)
_PAIR = re.compile(
    rf"(?P<name>(?<![\w-])(?:[\w-]*[_-])?(?:{_WORDS})['\"]?)(?P<sep>=|:\s*)(?P<quote>['\"]?)"
    rf"(?P<value>[^\s'\"&#<>,;]+)",
    re.IGNORECASE,
)
_ENV_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE
)
_ENV_NOT_A_SECRET = re.compile(r"_(FILE|PATH|DIR|URI|URL|HOST|PORT|USER|USERNAME)$", re.I)
_remembered: set[str] = set()


def _userinfo(m: re.Match[str]) -> str:
    scheme, user, password = m["scheme"], m["user"], m["password"]
    if password:
        return f"{scheme}://{user}:{MASK}@"
    if password is None and user and _HTTP.fullmatch(scheme):
        return f"{scheme}://{MASK}@"
    return m[0]


def _query(m: re.Match[str]) -> str:
    return f"{m['name']}={MASK}"


def _pair(m: re.Match[str]) -> str:
    return f"{m['name']}{m['sep']}{m['quote']}{MASK}"


# the order matters: URLs first, so a password holding '=' is masked as a whole
RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_USERINFO, _userinfo),
    (_QUERY, _query),
    (_PAIR, _pair),
)


def environment_secrets() -> set[str]:
    """Values of environment variables whose names say they hold a secret (MLflow's
    MLFLOW_TRACKING_PASSWORD/TOKEN, cloud keys, ...), read now: the environment may change."""
    return {
        value
        for name, value in os.environ.items()
        if len(value) >= MIN_SECRET_LEN and _ENV_NAME.search(name)
        and not _ENV_NOT_A_SECRET.search(name)
    }  # fmt: skip


def remember(text: str) -> None:
    """Register the secrets inside `text` (a URI's password or token, secret query values),
    raw and percent-decoded, so they are masked wherever they turn up later, even outside a
    URL (a basic-auth error, a decoded copy)."""
    found: list[str] = []
    for m in _USERINFO.finditer(text):
        if m["password"]:
            found.append(m["password"])
        elif m["password"] is None and m["user"] and _HTTP.fullmatch(m["scheme"]):
            found.append(m["user"])
    for m in _QUERY.finditer(text):
        found.append(m["value"])
    for value in found:
        for form in (value, unquote(value)):
            if len(form) >= MIN_SECRET_LEN:
                _remembered.add(form)


def redact(text: str) -> str:
    """`text` with every secret masked as '***' (see the module docstring for what counts)."""
    if not text:
        return text
    for pattern, replace in RULES:
        text = pattern.sub(replace, text)
    for secret in sorted(_remembered | environment_secrets(), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def has_secret(text: str) -> bool:
    """Whether `redact` would change `text`."""
    return redact(text) != text


def redact_fields(value: Any) -> Any:
    """`value` with every text inside it redacted: a pydantic model (the config, copied
    without re-validation), a mapping, a list or tuple, or a string; anything else as is."""
    if isinstance(value, str):
        masked = redact(value)
        return value if masked == value else masked
    if isinstance(value, BaseModel):
        update = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            new = redact_fields(old)
            if new is not old:
                update[name] = new
        return value.model_copy(update=update) if update else value
    if isinstance(value, dict):
        items = {k: redact_fields(v) for k, v in value.items()}
        return items if any(items[k] is not value[k] for k in value) else value
    if isinstance(value, list | tuple):
        items = [redact_fields(v) for v in value]
        changed = any(a is not b for a, b in zip(items, value, strict=True))
        return type(value)(items) if changed else value
    return value


def redact_files(folder: Path, pattern: str = "**/*.yaml") -> list[Path]:
    """Rewrite, masked, the files under `folder` that hold a secret (Hydra's record of the
    command line and config in .hydra/ and multirun.yaml); returns the files rewritten."""
    changed = []
    for path in sorted(Path(folder).glob(pattern)):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        masked = redact(text)
        if masked != text:
            tmp = path.with_name(f".{path.name}.redacting")
            tmp.write_text(masked, encoding="utf-8", errors="surrogateescape")
            os.replace(tmp, path)
            changed.append(path)
    return changed


# --- every log record, warning and exception text -----------------------------------------

_installed: list[bool] = []


def _scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message (and traceback) now, masked; a record whose format string
    does not fit its args is left for the handler to report."""
    try:
        message = record.getMessage()
    except Exception:
        return record
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def _redacting_factory(base: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _scrub(base(*args, **kwargs))

    return factory


class RedactFilter(logging.Filter):
    """The same redaction as a handler filter, for handlers configured from a dict
    (`filters: {redact: {(): custseg.redact.RedactFilter}}`): records made before `install`
    ran, or built without the record factory, are masked when they are emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


def install() -> None:
    """Mask secrets in every log record from now on (any logger, any handler: the record is
    redacted as it is made, so Hydra's reconfiguration of handlers cannot undo it), in records
    built without the factory that reach the root logger's present handlers, and in `warnings`
    printed to stderr. Idempotent; custseg calls it before its first MLflow call, the CLI as it
    starts."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())
    if _installed:
        return
    logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
    base_format = warnings.formatwarning

    def formatwarning(*args: Any, **kwargs: Any) -> str:
        return redact(base_format(*args, **kwargs))

    warnings.formatwarning = formatwarning
    _installed.append(True)
