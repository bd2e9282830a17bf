"""The guard `custseg serve` puts in front of MLflow's scoring server: no answer carries a stack
trace or a server path, and a body the server cannot read is a 400 naming the problem.

The model refuses bad tables itself (`custseg.tracking.payload`), but MLflow reads the body
before the model sees it, and some of its answers there leak or mislead: a CSV or Parquet body
pandas cannot read gets a 400 carrying the stack trace (server paths, library versions); a JSON
number Python will not convert (more than 4,300 digits) or nesting it will not follow escapes
as a bare 500; a wrong Content-Type gets a line of text. So every answer of POST /invocations
under 400 goes through untouched and any other is rewritten in the model's shape: `error_code`,
`message` and, for a 4xx, `errors` (field, problem, fix). A body MLflow failed on is read again,
only then, to name the problem exactly; a missing or unknown Content-Type is answered before
MLflow runs. Other paths (/ping, /health, /version) are MLflow's own.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from mlflow.pyfunc import scoring_server

import custseg
from custseg.redact import redact
from custseg.tracking.cells import Problem, show
from custseg.tracking.payload import CONTRACT_HINT, PayloadError

log = logging.getLogger(__name__)
Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
JSON, CSV, PARQUET = (scoring_server.CONTENT_TYPE_JSON, scoring_server.CONTENT_TYPE_CSV,
                      scoring_server.CONTENT_TYPE_PARQUET)  # fmt: skip
TYPE_FIX = f"send Content-Type {JSON} (dataframe_split or dataframe_records), {CSV} or {PARQUET}"


class Format(NamedTuple):
    name: str
    read: Callable[[bytes], Any]  # as MLflow reads it, to find out why it could not
    fix: str


FORMATS = {
    JSON: Format("JSON", json.loads,
                 'send one JSON object such as {"dataframe_split": {"columns": [...], "data": '
                 f'[[...], ...]}}}} or {{"dataframe_records": [{{...}}, ...]}}; {CONTRACT_HINT}'),
    CSV: Format("CSV", lambda body: pd.read_csv(io.StringIO(body.decode("utf-8"))),
                "send a header row, then one comma-separated line per row, in UTF-8 (as "
                "pandas' DataFrame.to_csv(index=False) writes it)"),
    PARQUET: Format("Parquet", lambda body: pd.read_parquet(io.BytesIO(body)),
                    "send the bytes of one Parquet file (as DataFrame.to_parquet() writes it)"),
}  # fmt: skip
# why a body could not be read: (content type or None for any, exception, problem, fix or None
# for the format's); the first that fits is taken
WHY: tuple[tuple[str | None, type[BaseException], Callable[[Any], str], str | None], ...] = (
    (None, UnicodeDecodeError, lambda e: f"not UTF-8 text (byte {e.start})", None),
    (JSON, RecursionError, lambda e: "nested deeper than the reader follows", None),
    (JSON, json.JSONDecodeError, lambda e: f"{e.msg} (line {e.lineno}, column {e.colno})", None),
    (JSON, ValueError,  # int() refuses more digits than sys.get_int_max_str_digits()
     lambda e: f"a number of more than {sys.get_int_max_str_digits():,} digits",
     "send ids as JSON strings (in quotes); no amount or quantity has that many digits"),
    (None, Exception, lambda e: str(e).splitlines()[0] if str(e) else type(e).__name__, None),
)  # fmt: skip
SERVER_DIRS = sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, os.getcwd(), str(Path.home()),
                      str(Path(custseg.__file__).parents[1]), tempfile.gettempdir()} - {"/", ""},
                     key=len, reverse=True)  # fmt: skip


def scrub(text: str, limit: int = 500) -> str:
    """A message fit for a client: no traceback, no server folder, one line, cut short."""
    text = text.split("Traceback (most recent call last)")[0]
    text = text.replace(scoring_server.SCORING_PROTOCOL_CHANGE_INFO, "")
    for folder in SERVER_DIRS:
        text = text.replace(folder, "<server>")
    return show(redact(" ".join(text.split())), bare=True, limit=limit)


def diagnose(body: bytes, mime: str) -> Problem | None:
    """Why the body of this content type cannot be read, read again; None when it can."""
    fmt = FORMATS[mime]
    try:
        fmt.read(body)
    except Exception as exc:  # RecursionError too: a body nested too deep is the client's
        why, fix = next((w, f) for m, t, w, f in WHY if m in (None, mime) and isinstance(exc, t))
        problem = f"a {fmt.name} body that cannot be read: {why(exc)}"
        return Problem("payload", scrub(problem, 300), fix or fmt.fix)
    return None


def refusal(status: int, problem: Problem) -> tuple[int, Message]:
    refused = PayloadError([problem])
    log.info("answered %d: %s", status, refused)
    return status, {"error_code": "BAD_REQUEST", "message": str(refused),
                    "errors": refused.errors()}  # fmt: skip


def tidy(status: int, answer: bytes, body: bytes, mime: str) -> tuple[int, Message]:
    """MLflow's error answer (JSON, text or nothing) in the model's shape."""
    try:
        sent = json.loads(answer)
    except ValueError:
        sent = None
    sent = sent if isinstance(sent, dict) else {"message": answer.decode("utf-8", "replace")}
    message = str(sent.get("message", ""))
    if message.startswith("Failed to predict data '") and "'. \nError: " in message:
        message = message.split("'. \nError: ", 1)[1]  # MLflow's echo of the input, dropped
    if status >= 500:
        code = sent.get("error_code") or "INTERNAL_ERROR"
        return status, {"error_code": code, "message": scrub(message or "the server failed")}
    if isinstance(sent.get("errors"), list):  # the model's own refusal, by field already
        return status, {"error_code": sent.get("error_code") or "BAD_REQUEST",
                        "message": scrub(message, 20_000), "errors": sent["errors"]}  # fmt: skip
    if status == 400 and (problem := diagnose(body, mime)):
        return refusal(status, problem)
    field, fix = ("Content-Type", TYPE_FIX) if status == 415 else ("payload", FORMATS[mime].fix)
    return refusal(status, Problem(field, scrub(message.removeprefix("Invalid input. "), 300), fix))


def failed(body: bytes, mime: str, trace: str) -> tuple[int, Message]:
    """The answer when MLflow's app raised: the body's fault (400) or the server's (500, the
    traceback in the server log as text: the CLI keeps exception records traceback-free)."""
    problem = diagnose(body, mime)
    if problem is not None:
        return refusal(400, problem)
    log.error("answered 500, the scoring server failed: %s", trace)
    return 500, {
        "error_code": "INTERNAL_ERROR",
        "message": "the server failed on this request; the server log has the details",
    }


async def answer(send: Send, status: int, content: Message) -> None:
    data = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class Guard:
    """ASGI middleware around MLflow's app (`scoring_server.init`): see the module docstring."""

    def __init__(self, app: Callable[[Message, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != ("POST", "/invocations"):
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        mime = sent_type.split(";")[0].strip()
        if mime not in FORMATS:
            why = f"{sent_type!r} is not a type this server reads" if sent_type else "missing"
            return await answer(send, *refusal(415, Problem("Content-Type", scrub(why, 200),
                                                            TYPE_FIX)))  # fmt: skip
        replayed: list[bool] = []

        async def replay() -> Message:  # the body once, then the client's disconnect
            if replayed:
                return await receive()
            replayed.append(True)
            return {"type": "http.request", "body": body, "more_body": False}

        start: Message = {}
        held: list[bytes] = []

        async def hold_errors(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            if start.get("status", 500) < 400:
                await send(message)
            elif message["type"] == "http.response.body":
                held.append(message.get("body", b""))

        try:
            await self.app(scope, replay, hold_errors)
        except Exception:
            if start.get("status", 500) < 400:
                raise  # the answer has gone out whole; the log says the rest
            trace = traceback.format_exc()
            return await answer(send, *await asyncio.to_thread(failed, body, mime, trace))
        if start.get("status", 500) >= 400:
            status = start["status"]
            await answer(send, *await asyncio.to_thread(tidy, status, b"".join(held), body, mime))
