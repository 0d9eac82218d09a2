"""Small numeric helpers of the benchmarks: percentiles, the fitted growth exponent, the machine record."""

from __future__ import annotations

import math
import os
import platform
import re
import resource
import subprocess
import sys
from decimal import Decimal
from importlib import metadata


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median of no values")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def p95(values: list[float]) -> float:
    """95th percentile by the nearest-rank method (with few runs it is the slowest run)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def fit_exponent(sizes: list[float], costs: list[float]) -> float | None:
    """Least-squares slope of log(cost) against log(size): cost ~ size ** exponent (None below 2 points)."""
    points = [(math.log(s), math.log(c)) for s, c in zip(sizes, costs) if s > 0 and c and c > 0]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports ru_maxrss in KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def canonical_cell(key) -> object:
    """A JSON-safe form of ``Cell.comparable()``: numbers by value (``6.00`` and ``6`` agree)."""
    if isinstance(key, tuple):
        return [canonical_cell(k) for k in key]
    if isinstance(key, Decimal):
        return format(key.normalize(), "f") if key == key.to_integral() else str(key.normalize())
    return key


def machine() -> dict:
    """Where the run happened: CPU model, cores, memory, OS, and the versions of the measured components."""
    cpu = "unknown"
    try:
        text = open("/proc/cpuinfo", encoding="utf-8").read()
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    mem_gb = None
    try:
        text = open("/proc/meminfo", encoding="utf-8").read()
        found = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
        mem_gb = round(int(found.group(1)) / 1024 / 1024, 1) if found else None
    except OSError:
        pass
    versions = {}
    for dist in ("bmlkg", "pyoxigraph", "rdflib", "pyshacl", "owlready2", "pyvis", "networkx", "playwright"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "java": _first_line(["java", "-version"]),
        "chromium": _first_line(["/usr/bin/chromium", "--version"]),
        "versions": versions,
    }


def _first_line(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else None
