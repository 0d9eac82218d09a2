"""Atomic file writing: a temporary file in the target folder, fsync, then rename.

A failure part-way leaves the previous file byte-for-byte intact and no temporary file behind.
``StagedWrites`` extends that to a set of files: nothing is renamed into place until every file
of the set has been written.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import EnvironmentProblem

TMP_PREFIX = ".bmlkg-tmp-"


def _explain(path: Path, exc: OSError) -> EnvironmentProblem:
    reason = {
        errno.ENOSPC: "no space left on device",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
        errno.EDQUOT: "disk quota exceeded",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return EnvironmentProblem(f"{path}: cannot write: {reason}")


def _write_temp(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write(path: Path | str, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically; raise EnvironmentProblem with a clear reason on failure."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        tmp = _write_temp(path, raw)
        os.replace(tmp, path)
    except OSError as exc:
        raise _explain(path, exc) from exc
    return path


class StagedWrites:
    """Collect several files, then move them all into place; on any error nothing is moved."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def add(self, path: Path | str, data: bytes | str) -> Path:
        path = Path(path)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            self._staged.append((_write_temp(path, raw), path))
        except OSError as exc:
            self.discard()
            raise _explain(path, exc) from exc
        return path

    def commit(self) -> list[Path]:
        done = []
        try:
            for tmp, final in self._staged:
                os.replace(tmp, final)
                done.append(final)
        except OSError as exc:
            self.discard()
            raise _explain(final, exc) from exc
        self._staged = []
        return done

    def discard(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._staged = []

    def __enter__(self) -> "StagedWrites":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock on an output folder, so two builds into it run one after the other."""
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / ".bmlkg.lock"
    try:
        handle = open(lock_path, "a+b")
    except OSError as exc:
        raise _explain(lock_path, exc) from exc
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
