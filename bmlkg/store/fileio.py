"""Atomic file writing: a temporary file in the target folder, fsync, then rename.

A failure part-way leaves the previous file byte-for-byte intact and no temporary file behind.
``StagedWrites`` extends that to a set of files: nothing is renamed into place until every file
of the set has been written, and a failure while renaming puts the previous files back.
:func:`publish` writes a whole release folder: it replaces and deletes only files an earlier bmlkg
build recorded as its own (in the release ``MANIFEST.json`` or a folder's ``.bmlkg-manifest.json``),
refuses a folder holding anything else unless forced, checks every target before writing, and
sweeps the temporary files an interrupted build left.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import EnvironmentProblem, InputError

TMP_PREFIX = ".bmlkg-tmp-"


def _reason(exc: OSError) -> str:
    return {
        errno.ENOSPC: "no space left on device",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
        errno.EDQUOT: "disk quota exceeded",
    }.get(exc.errno or 0, exc.strerror or str(exc))


def _explain(path: Path, exc: OSError) -> EnvironmentProblem:
    return EnvironmentProblem(f"{path}: cannot write: {_reason(exc)}")


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
        """Rename every staged file into place; on a failure, put the previous files back.

        SIGTERM, SIGHUP and Ctrl-C are held back while the files are renamed (see
        :func:`bmlkg.store.procs.deferred_signals`), so a signal never leaves half a set replaced.
        """
        from .procs import deferred_signals

        done: list[tuple[Path, Path | None, bool]] = []   # (final, backup of the previous file, had one)
        final = None
        with deferred_signals():
            try:
                for n, (tmp, final) in enumerate(self._staged):
                    had = final.is_file()
                    backup = None
                    if had:
                        backup = final.with_name(f"{TMP_PREFIX}old-{os.getpid()}-{n}{final.suffix}")
                        try:
                            os.link(final, backup)
                        except OSError:
                            backup = None
                    done.append((final, backup, had))
                    os.replace(tmp, final)
            except BaseException as exc:
                if done and os.path.exists(self._staged[len(done) - 1][0]):
                    # the last rename did not happen: its file is still the previous one
                    _last, last_backup, _had = done.pop()
                    if last_backup is not None:
                        with contextlib.suppress(OSError):
                            os.unlink(last_backup)
                for path, backup, had in reversed(done):
                    with contextlib.suppress(OSError):
                        if backup is not None:
                            os.replace(backup, path)
                        elif not had:
                            os.unlink(path)
                self.discard()
                if isinstance(exc, OSError):
                    raise _explain(final, exc) from exc
                raise
            for _path, backup, _had in done:
                if backup is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(backup)
        finals = [f for _t, f in self._staged]
        self._staged = []
        return finals

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


# -- releases: folders of files written together, owned through the records they leave -------------------
#: A folder's record of the files bmlkg wrote into it (the release ``MANIFEST.json`` records the exports).
RECORD = ".bmlkg-manifest.json"
LOCK_NAME = ".bmlkg.lock"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def _recorded(out: Path, record: str) -> set[str] | None:
    """The files a bmlkg record in ``out`` lists (relative to ``out``), or None when there is no such record."""
    doc = _read_json(out / record)
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), (dict, list)):
        return None
    if doc.get("ontology") != "https://w3id.org/bmlkg/bmlkg.owl" and doc.get("generator") != "bmlkg":
        return None
    folder = Path(record).parent
    names = {(folder / str(name)).as_posix() for name in doc["files"]} | {record}
    return {n for n in names if not Path(n).is_absolute() and ".." not in Path(n).parts}


def record_text(names) -> bytes:
    """The record of the files bmlkg wrote into a folder (deterministic)."""
    doc = {"generator": "bmlkg", "files": sorted(names)}
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("utf-8")


def check_out_folder(out: Path, option: str = "--out", create: bool = True) -> None:
    """Refuse an output folder that cannot be one: an existing file, a path under a file, an unwritable place.

    With ``create`` the folder is made (parents too); without, only what can be seen now is checked.
    """
    if out.is_symlink() and not out.exists():
        raise InputError(f"{option} {out}: is a dangling symbolic link")
    if out.exists() and not out.is_dir():
        raise InputError(f"{option} {out}: is a file, not a folder; give a folder for the release")
    for parent in out.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise InputError(f"{option} {out}: {parent} is a file, so no folder can be made under it")
            if not out.exists() and not os.access(parent, os.W_OK | os.X_OK):
                raise EnvironmentProblem(f"{option} {out}: cannot create the folder: "
                                         f"{'read-only file system' if _read_only(parent) else 'permission denied'}")
            break
    if not create:
        return
    if not out.exists():
        try:
            out.mkdir(parents=True)
        except OSError as exc:
            raise EnvironmentProblem(f"{option} {out}: cannot create the folder: {_reason(exc)}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(out) else "permission denied"
        raise EnvironmentProblem(f"{option} {out}: cannot write: {reason}")


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def sweep_temporaries(folders) -> int:
    """Remove the ``.bmlkg-tmp-*`` files an interrupted build left in ``folders`` (hold the folder lock)."""
    removed = 0
    for folder in folders:
        try:
            entries = list(Path(folder).iterdir())
        except OSError:
            continue
        for path in entries:
            if path.name.startswith(TMP_PREFIX) and (path.is_symlink() or path.is_file()):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
    return removed


def check_release_folder(out: Path, records, *, force: bool = False, option: str = "--out"
                         ) -> dict[str, set[str] | None]:
    """Refuse (unless ``force``) a folder that holds files but no bmlkg record; return what each record lists."""
    found = {record: _recorded(out, record) for record in records}
    if out.is_dir() and not force and all(r is None for r in found.values()):
        present = [p.name for p in out.iterdir() if p.name != LOCK_NAME and not p.name.startswith(TMP_PREFIX)]
        if present:
            names = ", ".join(sorted(present)[:3]) + (f" and {len(present) - 3} more" if len(present) > 3 else "")
            raise InputError(f"{option} {out}: the folder holds files bmlkg did not write ({names}); choose a new "
                             "or empty folder, or pass --force to write the release there anyway")
    return found


def publish(out: Path | str, parts: dict[str, dict[str, bytes]], *, force: bool = False,
            option: str = "--out") -> list[Path]:
    """Write a release into ``out``: check every target, stage every file, then swap them all in at once.

    ``parts`` maps a record (``MANIFEST.json``, ``html/.bmlkg-manifest.json``) to the files (relative path ->
    bytes) it covers; each part's contents include its record. A file may be replaced only when an earlier
    bmlkg record in ``out`` lists it, and only recorded files that a replaced part no longer has are deleted;
    anything else in ``out`` is left alone. A folder with files but no bmlkg record at all, or a target that
    exists but no record lists, is refused (:class:`InputError`) unless ``force``. Until every file is
    staged nothing in ``out`` changes; a failure while swapping puts the previous files back.
    """
    out = Path(out)
    check_out_folder(out, option)
    contents: dict[str, bytes] = {}
    for files in parts.values():
        contents.update(files)
    with folder_lock(out):
        folders = {out} | {(out / name).parent for name in contents}
        sweep_temporaries(sorted(f for f in folders if f.is_dir()))
        records = check_release_folder(out, parts, force=force, option=option)
        release = any(r is not None for r in records.values())
        owned = set().union(*(r for r in records.values() if r is not None))
        for name in sorted(contents):
            target = out / name
            for parent in reversed(Path(name).parents[:-1] if len(Path(name).parents) > 1 else []):
                where = out / parent
                if (where.exists() or where.is_symlink()) and not where.is_dir():
                    raise InputError(f"{option} {out}: {where} is a file where the release needs a folder; "
                                     "move it away")
            if target.is_dir() and not target.is_symlink():
                raise InputError(f"{option} {out}: {target} is a folder where the release writes a file; "
                                 "move it away")
            if (target.exists() or target.is_symlink()) and name not in owned and not force:
                record = next(r for r, files in parts.items() if name in files)
                legacy = release and records[record] is None and record != name  # a release older than its record
                if not legacy:
                    raise InputError(f"{option} {out}: {target} exists and was not written by bmlkg (no bmlkg "
                                     "record lists it); move it away or pass --force to replace it")
        stale = sorted(
            name for record, files in parts.items() if records[record] is not None
            for name in records[record] - set(files) if name not in contents and (out / name).is_file()
        )
        with StagedWrites() as staged:
            for name in sorted(contents):
                staged.add(out / name, contents[name])
            written = staged.commit()
        for name in stale:
            with contextlib.suppress(OSError):
                (out / name).unlink()
    return written
