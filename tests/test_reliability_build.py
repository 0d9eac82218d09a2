"""`bmlkg build --out`: it replaces only what it wrote, never mixes two releases, and leaves nothing behind.

Issue 14, items 1-3: ownership through the records a build leaves (``MANIFEST.json``,
``html/.bmlkg-manifest.json``), every target checked before anything is written, every file staged before
any is swapped in, stale temporaries swept, SIGTERM/SIGKILL leave no Java and no temporary ontology, and a
kill at any moment leaves the previous release byte-identical.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bmlkg.store import fileio
from bmlkg.store.errors import EnvironmentProblem, InputError

from .conftest import REPO, run_cli
from .helpers import mini_source

MANIFEST = "MANIFEST.json"
HTML_RECORD = "html/.bmlkg-manifest.json"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the lock file aside) by relative path, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != fileio.LOCK_NAME}


def release(files: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """A release as publish() takes it: the files and a MANIFEST.json listing them."""
    manifest = {"ontology": "https://w3id.org/bmlkg/bmlkg.owl", "files": {name: {} for name in files}}
    return {MANIFEST: {**files, MANIFEST: json.dumps(manifest).encode()}}


def one_error_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("bmlkg: error: "), lines[0]
    assert "Traceback" not in proc.stderr
    return lines[0]


def hermit_processes(tmp: Path) -> set[int]:
    """Java processes running HermiT on an ontology under ``tmp`` (the TMPDIR the test gave the build)."""
    found = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    line = handle.read()
            except OSError:
                continue
            if b"org.semanticweb.HermiT" in line and str(tmp).encode() in line:
                found.add(int(pid))
    return found


def hermit_folders(tmp: Path) -> set[str]:
    return {p.name for p in tmp.glob("bmlkg-hermit-*")}


def private_tmp(tmp_path: Path) -> tuple[Path, dict]:
    """A TMPDIR of the test's own, so other builds on the machine do not count."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp, {**os.environ, "TMPDIR": str(tmp)}


def wait_gone(predicate, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def read_only_mount() -> Path | None:
    """A folder on a read-only mount, if this machine has one."""
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 3 and "ro" in fields[3].split(",") and Path(fields[1]).is_dir():
            if not (Path(fields[1]) / "bmlkg-out").exists():
                return Path(fields[1])
    return None


# -- 1. ownership --------------------------------------------------------------------------------------------
def test_a_folder_bmlkg_did_not_write_is_refused_and_left_byte_identical(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "README.md").write_text("# my project\n")
    (checkout / "pyproject.toml").write_text("[project]\n")
    before = snapshot(checkout)
    proc = run_cli("--quiet", "build", "--no-render", "--out", str(checkout), timeout=60)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert line == (f"bmlkg: error: --out {checkout}: the folder holds files bmlkg did not write (README.md, "
                    "pyproject.toml); choose a new or empty folder, or pass --force to write the release there anyway")
    assert proc.stdout == ""
    assert snapshot(checkout) == before
    assert sorted(p.name for p in checkout.iterdir()) == ["README.md", "pyproject.toml"]


def test_only_recorded_files_are_replaced_or_removed(tmp_path):
    out = tmp_path / "out"
    fileio.publish(out, release({"a.ttl": b"old a", "gone.ttl": b"old gone"}))
    (out / "notes.txt").write_bytes(b"mine")                    # never bmlkg's: stays
    fileio.publish(out, release({"a.ttl": b"new a"}))
    assert (out / "a.ttl").read_bytes() == b"new a"
    assert not (out / "gone.ttl").exists()                       # recorded and stale: removed
    assert (out / "notes.txt").read_bytes() == b"mine"
    (out / "b.ttl").write_bytes(b"someone else's")              # a target no record lists
    before = snapshot(out)
    with pytest.raises(InputError, match=r"b\.ttl exists and was not written by bmlkg .*pass --force"):
        fileio.publish(out, release({"a.ttl": b"newer a", "b.ttl": b"new b"}))
    assert snapshot(out) == before
    fileio.publish(out, release({"a.ttl": b"newer a", "b.ttl": b"new b"}), force=True)
    assert (out / "b.ttl").read_bytes() == b"new b" and (out / "notes.txt").read_bytes() == b"mine"


def test_html_pages_an_earlier_build_did_not_record_are_kept(tmp_path):
    out = tmp_path / "out"
    parts = release({"bmlkg.ttl": b"t"})
    parts[HTML_RECORD] = {"html/index.html": b"i", "html/old-view.html": b"o",
                          HTML_RECORD: fileio.record_text(["index.html", "old-view.html"])}
    fileio.publish(out, parts)
    (out / "html" / "my-notes.html").write_bytes(b"mine")
    (out / "html" / "ontology").mkdir()
    (out / "html" / "ontology" / "draft.html").write_bytes(b"draft")
    parts[HTML_RECORD] = {"html/index.html": b"i2", HTML_RECORD: fileio.record_text(["index.html"])}
    fileio.publish(out, parts)
    assert not (out / "html" / "old-view.html").exists()
    assert (out / "html" / "my-notes.html").read_bytes() == b"mine"
    assert (out / "html" / "ontology" / "draft.html").read_bytes() == b"draft"
    assert (out / "html" / "index.html").read_bytes() == b"i2"


# -- 2. no mixed release -------------------------------------------------------------------------------------
@pytest.mark.parametrize("obstacle", ["bmlkg.nt is a folder", "html is a file", "graph is a file"])
def test_a_target_that_cannot_be_written_fails_before_anything_changes(tmp_path, obstacle):
    out = tmp_path / "out"
    parts = release({"bmlkg.ttl": b"old ttl", "bmlkg.owl": b"old owl", "bmlkg.nt": b"old nt",
                     "graph/x.csv": b"old csv"})
    fileio.publish(out, parts)
    if obstacle == "bmlkg.nt is a folder":
        (out / "bmlkg.nt").unlink()
        (out / "bmlkg.nt").mkdir()
        expected = f"{out / 'bmlkg.nt'} is a folder where the release writes a file; move it away"
    elif obstacle == "html is a file":
        (out / "html").write_bytes(b"a file")
        expected = f"{out / 'html'} is a file where the release needs a folder; move it away"
    else:
        shutil.rmtree(out / "graph")
        (out / "graph").write_bytes(b"a file")
        expected = f"{out / 'graph'} is a file where the release needs a folder; move it away"
    before = snapshot(out)
    new = release({"bmlkg.ttl": b"new ttl", "bmlkg.owl": b"new owl", "bmlkg.nt": b"new nt",
                   "graph/x.csv": b"new csv"})
    new[HTML_RECORD] = {"html/index.html": b"new", HTML_RECORD: fileio.record_text(["index.html"])}
    with pytest.raises(InputError) as info:
        fileio.publish(out, new)
    assert str(info.value) == f"--out {out}: {expected}"
    assert snapshot(out) == before
    assert not [p for p in out.rglob(f"{fileio.TMP_PREFIX}*")]


def test_build_with_html_a_file_exits_2_and_keeps_the_previous_release(tmp_path, built):
    out = tmp_path / "out"
    shutil.copytree(built, out)
    shutil.rmtree(out / "html")
    (out / "html").write_text("not a folder\n")
    before = snapshot(out)
    proc = run_cli("--quiet", "build", "--source", str(mini_source(tmp_path / "src")), "--out", str(out))
    assert proc.returncode == 2
    assert one_error_line(proc) == (f"bmlkg: error: --out {out}: {out / 'html'} is a file where the release "
                                    "needs a folder; move it away")
    assert snapshot(out) == before


def test_a_failure_while_swapping_puts_every_previous_file_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fileio.publish(out, release({f"f{i}.ttl": b"old %d" % i for i in range(6)}))
    before = snapshot(out)
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 4:                     # the fourth rename fails: three files are already new
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(fileio.os, "replace", replace)
    with pytest.raises(EnvironmentProblem, match="no space left on device"):
        fileio.publish(out, release({f"f{i}.ttl": b"new %d" % i for i in range(6)}))
    assert snapshot(out) == before
    assert not list(out.glob(f"{fileio.TMP_PREFIX}*"))


# -- 1/11. --out that can never be a folder --------------------------------------------------------------------
@pytest.mark.parametrize("case", ["an existing file", "a path under a file", "a read-only place"])
def test_an_impossible_out_is_one_line_before_any_work(tmp_path, case):
    if case == "an existing file":
        out = tmp_path / "release.txt"
        out.write_text("keep me\n")
        expected = f"bmlkg: error: --out {out}: is a file, not a folder; give a folder for the release"
    elif case == "a path under a file":
        (tmp_path / "file").write_text("keep me\n")
        out = tmp_path / "file" / "sub" / "out"
        expected = f"bmlkg: error: --out {out}: {tmp_path / 'file'} is a file, so no folder can be made under it"
    else:
        ro = read_only_mount()
        if ro is not None:
            out = ro / "bmlkg-out"
            expected = f"bmlkg: error: --out {out}: cannot create the folder: read-only file system"
        elif os.geteuid() == 0:
            out = Path("/proc/sys/bmlkg-out")     # root may write anywhere else
            expected = f"bmlkg: error: --out {out}: cannot create the folder: permission denied"
        else:
            ro = tmp_path / "ro"
            ro.mkdir()
            ro.chmod(0o500)
            out = ro / "out"
            expected = f"bmlkg: error: --out {out}: cannot create the folder: permission denied"
    before = snapshot(tmp_path)
    started = time.monotonic()
    proc = run_cli("--quiet", "build", "--no-render", "--out", str(out), timeout=60)
    assert proc.returncode == 2
    assert one_error_line(proc) == expected
    assert time.monotonic() - started < 20          # refused before HermiT and SHACL run
    assert snapshot(tmp_path) == before


# -- 3. leftovers --------------------------------------------------------------------------------------------
def test_temporaries_an_interrupted_build_left_are_swept(tmp_path):
    out = tmp_path / "out"
    parts = release({"bmlkg.ttl": b"t"})
    parts[HTML_RECORD] = {"html/index.html": b"i", HTML_RECORD: fileio.record_text(["index.html"])}
    fileio.publish(out, parts)
    for name in (".bmlkg-tmp-abc123.ttl", "html/.bmlkg-tmp-x.html", ".bmlkg-tmp-old-99-0.ttl"):
        (out / name).write_bytes(b"x" * 1000)
    (out / ".bmlkg-tmp-folder").mkdir()                # not a file: not ours to remove
    fileio.publish(out, parts)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob(f"{fileio.TMP_PREFIX}*")) == [
        ".bmlkg-tmp-folder"]


@pytest.mark.slow
def test_sigterm_during_reasoning_exits_143_and_leaves_nothing(tmp_path, built):
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = snapshot(out)
    tmp, env = private_tmp(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "bmlkg.cli", "build", "--source",
                             str(mini_source(tmp_path / "src")), "--out", str(out)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_gone(lambda: hermit_processes(tmp), within=60), "HermiT never started"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143
    errors = [line for line in stderr.splitlines() if not line.startswith("  … ")]
    assert errors == ["bmlkg: error: stopped by SIGTERM; nothing was left half-written"], stderr
    assert snapshot(out) == before
    assert wait_gone(lambda: not hermit_processes(tmp)), "HermiT's Java outlived the build"
    assert wait_gone(lambda: not hermit_folders(tmp)), "the temporary ontology stayed"


@pytest.mark.slow
def test_kill_at_seeded_moments_keeps_the_previous_release(tmp_path, built):
    """kill -9 at a few seeded moments of a build: the previous release stays byte-identical (or, when the
    build had finished swapping, the new one is whole); no Java stays; the next build leaves no temporaries."""
    out = tmp_path / "out"
    shutil.copytree(built, out)
    previous = snapshot(out)
    source = mini_source(tmp_path / "src")
    tmp, env = private_tmp(tmp_path)
    rng = random.Random(14)
    markers = ["OWL reasoning", "exporting RDF", "rendering", "writing the release"]
    outcomes = []
    for marker in markers:
        proc = subprocess.Popen([sys.executable, "-m", "bmlkg.cli", "build", "--source", str(source),
                                 "--out", str(out)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:
            if marker in line:
                break
        time.sleep(rng.uniform(0.0, 0.4))
        proc.kill()
        proc.wait(30)
        proc.stderr.close()
        now = snapshot(out)
        kept = {k: v for k, v in now.items() if not Path(k).name.startswith(fileio.TMP_PREFIX)}
        if kept == previous:
            outcomes.append("previous")
        else:   # the swap had completed: a whole new release (same file set, the new manifest's bytes)
            manifest = json.loads(kept[MANIFEST])
            assert manifest["triples"] != json.loads(previous[MANIFEST])["triples"], marker
            for name in manifest["files"]:
                assert name in kept, (marker, name)
            outcomes.append("new")
            previous = kept
        assert wait_gone(lambda: not hermit_processes(tmp)), f"Java outlived kill at {marker}"
    assert "previous" in outcomes
    proc = run_cli("--quiet", "build", "--source", str(source), "--out", str(out), env={"TMPDIR": str(tmp)})
    assert proc.returncode == 0, proc.stderr
    assert not list(out.rglob(f"{fileio.TMP_PREFIX}*"))
    assert wait_gone(lambda: not hermit_folders(tmp)), "a temporary ontology stayed behind"
