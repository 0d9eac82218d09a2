"""Processes and signals: children that die with bmlkg, cleanup that survives kill -9, clean termination.

* :func:`die_with_parent` is a ``preexec_fn`` (or a first call in a forked child): the kernel kills the
  child when the bmlkg process ends, however it ends (``PR_SET_PDEATHSIG``).
* :class:`Janitor` is a small helper process that removes temporary folders when bmlkg ends, even by
  ``kill -9`` (it waits for its standard input to close, which the kernel does when bmlkg dies).
* :func:`terminate_on_signals` turns SIGTERM and SIGHUP into :class:`Terminated`, so ``finally`` blocks
  run (temporary files removed, child processes stopped); :func:`deferred_signals` holds them back while
  a release is swapped into place, so a release is never half-replaced by a SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

PR_SET_PDEATHSIG = 1
_STATE: dict = {"defer": 0, "pending": None}


class Terminated(BaseException):
    """The process received SIGTERM or SIGHUP; exit code 128 + signal number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _prctl_pdeathsig(sig: int) -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def die_with_parent_fn(sig: int = signal.SIGKILL):
    """A ``preexec_fn`` that makes the child die (with ``sig``) when this process ends."""
    parent = os.getpid()

    def preexec() -> None:  # pragma: no cover - runs in the child between fork and exec
        _prctl_pdeathsig(sig)
        if os.getppid() != parent:  # the parent died before the call: die now
            os._exit(1)

    return preexec if sys.platform.startswith("linux") else None


def child_dies_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """Called first in a forked child (no exec): die when ``parent`` ends."""
    if sys.platform.startswith("linux"):
        _prctl_pdeathsig(sig)
    if os.getppid() != parent:
        os._exit(1)


_JANITOR_CODE = (
    "import shutil, sys, time\n"
    "sys.stdin.buffer.read()\n"
    "time.sleep(0.3)\n"
    "for p in sys.argv[1:]:\n"
    "    shutil.rmtree(p, ignore_errors=True)\n"
)


class Janitor:
    """Remove ``folders`` when this process ends, by any means; :meth:`close` also removes them now."""

    def __init__(self, *folders: Path):
        self.folders = [Path(f) for f in folders]
        try:
            self.process: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-S", "-c", _JANITOR_CODE, *map(str, self.folders)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True)
        except OSError:
            self.process = None  # cleanup on a normal exit still happens in close()

    def close(self) -> None:
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
            self.process = None


def _handler(signum, _frame):
    if _STATE["defer"]:
        _STATE["pending"] = signum
        return
    raise Terminated(signum)


def terminate_on_signals() -> None:
    """SIGTERM and SIGHUP raise :class:`Terminated` in the main thread (call from the main thread)."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, _handler)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGTERM/SIGHUP (and Ctrl-C) until the block ends, then act on them."""
    _STATE["defer"] += 1
    previous_int = None
    with contextlib.suppress(ValueError):
        previous_int = signal.signal(signal.SIGINT, _defer_int)
    try:
        yield
    finally:
        _STATE["defer"] -= 1
        if previous_int is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGINT, previous_int)
        pending, _STATE["pending"] = _STATE["pending"], None
        if pending is not None and not _STATE["defer"]:
            if pending == signal.SIGINT:
                raise KeyboardInterrupt
            raise Terminated(pending)


def _defer_int(signum, _frame):
    _STATE["pending"] = signum


def reset_signals_in_child() -> None:
    """A forked worker takes the default actions (it must not run the parent's handlers)."""
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, signal.SIG_DFL)
