"""Child processes with prefixed output, stopped in order: terminate, wait, kill after a timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

_COLOURS = ("\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m")
_RESET = "\033[0m"


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    stop_timeout_s: float = 10.0
    # Lines printed after we asked the process to stop are dropped when True: the dev server logs a burst
    # of harmless connection warnings while it shuts itself down.
    quiet_on_stop: bool = False
    proc: subprocess.Popen[bytes] | None = None
    stopping: bool = False
    reader: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    def __init__(self, *, cwd: Path, out: IO[str] = sys.stdout) -> None:
        self.cwd = cwd
        self.out = out
        self.children: list[Child] = []
        self._lock = threading.Lock()
        self._colour = out.isatty() and not os.environ.get("NO_COLOR")
        self._colours: dict[str, str] = {}

    def say(self, name: str, line: str) -> None:
        with self._lock:
            if self._colour:
                colour = self._colours.setdefault(name, _COLOURS[len(self._colours) % len(_COLOURS)])
                self.out.write(f"{colour}{name:>8} |{_RESET} {line}\n")
            else:
                self.out.write(f"{name:>8} | {line}\n")
            self.out.flush()

    def start(self, child: Child, env: dict[str, str]) -> Child:
        # A session of its own: a Ctrl-C in the terminal reaches only us, and we stop children in order.
        child.proc = subprocess.Popen(  # noqa: S603 - argv built by us, no shell
            list(child.argv), cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        child.reader = threading.Thread(target=self._pump, args=(child,), daemon=True, name=f"log-{child.name}")
        child.reader.start()
        self.children.append(child)
        return child

    def _pump(self, child: Child) -> None:
        assert child.proc is not None and child.proc.stdout is not None
        for raw in iter(child.proc.stdout.readline, b""):
            if child.stopping and child.quiet_on_stop:
                continue
            self.say(child.name, raw.decode("utf-8", errors="replace").rstrip())

    def exited(self) -> Child | None:
        """The first child that has exited on its own, if any."""
        for child in self.children:
            if child.proc is not None and not child.stopping and child.proc.poll() is not None:
                return child
        return None

    def stop_all(self, *, hurry: threading.Event | None = None) -> None:
        """Stop children in reverse start order; a second Ctrl-C (hurry) kills what is left at once."""
        for child in reversed(self.children):
            self._stop(child, hurry)
        for child in self.children:
            if child.reader is not None:
                child.reader.join(timeout=2)

    def _stop(self, child: Child, hurry: threading.Event | None) -> None:
        proc = child.proc
        if proc is None or proc.poll() is not None:
            return
        child.stopping = True
        proc.send_signal(signal.SIGTERM)
        waited = 0.0
        while waited < child.stop_timeout_s and not (hurry is not None and hurry.is_set()):
            try:
                proc.wait(timeout=0.2)
                return
            except subprocess.TimeoutExpired:
                waited += 0.2
        self.say(child.name, f"did not stop within {child.stop_timeout_s:.0f}s; killing it")
        proc.kill()
        proc.wait()
