"""Listening on an address from the command line (`custseg serve`, `custseg dashboard`): the
options parsed with one-line refusals, and the address taken before anything slow starts, so a
port in use or an unknown host stops the command at once with exit 2 naming the option."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from typing import NoReturn

BIND_ERRORS = {  # errno -> what went wrong and what fixes it
    errno.EADDRINUSE: "--port {port}: {host}:{port} is in use (another server?). Fix: choose "
    "another --port, or stop what listens there",
    errno.EACCES: "--port {port}: not allowed to listen on {host}:{port} (ports below 1024 need "
    "privileges). Fix: choose a --port above 1023",
    errno.EADDRNOTAVAIL: "--host {host}: not an address of this machine. Fix: 127.0.0.1 (this "
    "machine only), 0.0.0.0 (every interface) or one of this machine's addresses",
}


class Parser(argparse.ArgumentParser):
    """argparse with its refusals on one line, exit 2, like the rest of the CLI."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} ({self.prog} --help lists the options)",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)


def port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return int(text)


def bind(host: str, port: int) -> socket.socket:
    """The listening address, taken now (before the model loads): a ValueError naming --host or
    --port when it cannot be."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise ValueError(
            f"--host {host}: not a name or address to listen on ({why}). Fix: "
            "127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        ) from None
    sock = socket.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        default = f"--host {host} --port {port}: cannot listen there ({exc.strerror})"
        raise ValueError(BIND_ERRORS.get(exc.errno, default).format(host=host, port=port)) from None
    return sock
