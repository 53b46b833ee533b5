"""``azctx select`` without NAME: pick a context on the terminal.

fzf when it is on PATH, else a small picker of our own drawn on ``/dev/tty`` with
termios: type to filter (every word must appear, any case), Up/Down (or Ctrl-P/Ctrl-N)
to move, Enter to select. Both start on the caller's default (fzf through its ``load``
event and ``pos`` action, fzf 0.36 or later), so Enter at once keeps it. Esc or Ctrl-C
picks nothing (fzf cannot tell them apart, so neither does ours): the default stays as
it was and the command exits 1. Without a terminal there is nothing to pick on: exit 2.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import termios
import tty
from collections.abc import Sequence
from typing import TYPE_CHECKING

from azctx.cli.asking import stdin_is_tty
from azctx.cli.render import table
from azctx.events import BadInput, Refused

if TYPE_CHECKING:
    from azctx.projections.view import ViewContext

PROMPT = "context> "
FZF = (
    "fzf",
    "--height=40%",
    "--reverse",
    "--delimiter=\t",
    "--with-nth=2..",
    "--no-sort",
    "--sync",
)
#: The most rows the built-in picker draws at once.
HEIGHT = 10
#: How long a lone Esc waits for the rest of an arrow key's sequence.
ESC_WAIT = 0.05
UP = (b"\x1b[A", b"\x1bOA", b"\x10")
DOWN = (b"\x1b[B", b"\x1bOB", b"\x0e")
ENTER = (b"\r", b"\n")
CANCEL = (b"\x1b", b"\x03", b"\x04")
ERASE = (b"\x7f", b"\x08")
CLEAR_LINE = b"\x15"


def choose(items: Sequence[ViewContext], current: str | None = None) -> str:
    """The name of the context picked from ``items``, starting on the one named
    ``current`` (the caller's default); a refusal when none is."""
    if not stdin_is_tty():
        raise BadInput(
            "select needs a NAME when there is no terminal to pick on",
            hint="azctx select NAME (see 'azctx list')",
        )
    if not items:
        raise Refused("there is no context to pick from", hint="azctx add --help")
    header, *lines = table(
        ("NAME", "SUBSCRIPTION", "ACCOUNT"),
        [
            (
                i.context.name,
                i.context.subscription_name or i.context.subscription or "",
                i.context.account,
            )
            for i in items
        ],
    ).split("\n")
    names = [i.context.name for i in items]
    start = names.index(current) if current in names else 0
    picked = _fzf(header, lines, start) if shutil.which("fzf") else _builtin(header, lines, start)
    if picked is None:
        raise Refused("nothing selected; the default is unchanged")
    return items[picked].context.name


def _fzf(header: str, lines: Sequence[str], start: int) -> int | None:
    """fzf shows the lines under the header and prints the chosen one, led by its index.
    ``--sync`` has it take the whole list before it reads a key, so the move to
    ``start`` (on its ``load`` event; ``pos`` counts from 1) comes before any Enter; a
    changed query goes to its first match (by itself fzf keeps the cursor's place, no
    longer the top once ``pos`` moved it)."""
    body = "".join(f"{n}\t{line}\n" for n, line in enumerate(lines))
    bind = f"--bind=load:pos({start + 1}),change:top"
    done = subprocess.run(
        [*FZF, f"--prompt={PROMPT}", f"--header={header}", bind],
        input=body,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0 or "\t" not in done.stdout:
        return None
    return int(done.stdout.split("\t", 1)[0])


def matches(lines: Sequence[str], query: str) -> list[int]:
    """The indexes of the lines holding every word of ``query``, any case."""
    words = query.casefold().split()
    return [n for n, line in enumerate(lines) if all(w in line.casefold() for w in words)]


class _Picker:
    """The built-in picker's state: the query, the lines it keeps, the cursor."""

    def __init__(self, header: str, lines: Sequence[str], start: int = 0) -> None:
        self.header, self.lines = header, lines
        self.query = ""
        self.shown = list(range(len(lines)))
        self.cursor = max(0, min(start, len(lines) - 1))

    def key(self, data: bytes) -> bool | None:
        """Apply one key: True when Enter picks, False when it cancels, else None."""
        if data in ENTER:
            return bool(self.shown)
        if data in CANCEL:
            return False
        if data in UP or data in DOWN:
            step = -1 if data in UP else 1
            self.cursor = max(0, min(len(self.shown) - 1, self.cursor + step))
            return None
        if data in ERASE:
            self.query = self.query[:-1]
        elif data == CLEAR_LINE:
            self.query = ""
        else:
            text = data.decode(errors="ignore")
            self.query += "".join(ch for ch in text if ch.isprintable())
        self.shown = matches(self.lines, self.query)
        self.cursor = 0  # a new query: its first match, as in fzf
        return None

    def frame(self, rows: int) -> bytes:
        """The prompt, the header and the visible lines, the cursor left on the prompt."""
        height = max(1, min(HEIGHT, rows - 3))
        first = max(0, self.cursor - height + 1)
        out = [f"\r\x1b[J{PROMPT}{self.query}", f"  \x1b[2m{self.header}\x1b[0m"]
        for pos in range(first, min(len(self.shown), first + height)):
            line = self.lines[self.shown[pos]]
            out.append(f"\x1b[7m> {line}\x1b[0m" if pos == self.cursor else f"  {line}")
        up = len(out) - 1
        column = len(PROMPT) + len(self.query)
        tail = f"\x1b[{up}A\r" + (f"\x1b[{column}C" if column else "")
        return ("\r\n".join(out) + tail).encode()


def _builtin(header: str, lines: Sequence[str], start: int) -> int | None:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise BadInput("there is no terminal to pick on", hint="azctx select NAME") from None
    saved = termios.tcgetattr(fd)
    picker = _Picker(header, lines, start)
    try:
        tty.setraw(fd)  # Ctrl-C arrives as a key: it cancels, as Esc does
        while True:
            os.write(fd, picker.frame(os.get_terminal_size(fd).lines))
            for key in keys(_read_key(fd)):
                verdict = picker.key(key)
                if verdict is not None:
                    return picker.shown[picker.cursor] if verdict else None
    finally:
        os.write(fd, b"\r\x1b[J")
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        os.close(fd)


_SEQUENCE = re.compile(rb"\x1b\[[0-9;]*[@-~]|\x1bO.|\x1b|[\x00-\x7f]|[\xc0-\xff][\x80-\xbf]*", re.S)


def keys(data: bytes) -> list[bytes]:
    """The key presses in one read: keys typed or pasted faster than the picker reads
    arrive together (three Backspaces, a pasted word), an escape sequence stays whole."""
    return _SEQUENCE.findall(data)


def _read_key(fd: int) -> bytes:
    """One key press: an Esc alone, or a whole escape sequence (an arrow key)."""
    data = os.read(fd, 64)
    if data == b"\x1b" and select.select([fd], [], [], ESC_WAIT)[0]:
        data += os.read(fd, 64)
    return data
