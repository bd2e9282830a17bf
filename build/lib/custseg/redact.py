"""Secrets never leave the process: passwords in URIs are masked before anything is logged,
written to a config copy or pickled with a model."""

from __future__ import annotations

import re

# scheme://[user]:password@host -- the password may hold '@' (the last '@' before the host
# ends it) and the user may be empty (http://:token@host)
_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*):[^/\s]*@", re.IGNORECASE)


def redact(text: str) -> str:
    """http://user:secret@host -> http://user:***@host, anywhere in `text`."""
    return _CREDENTIALS.sub(r"\1:***@", text)
