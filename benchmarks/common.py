"""What every benchmark module shares: the repository folder, progress lines, the view sizes.

The bottom of the benchmarks package: it imports no other benchmark module, so the runner and the
per-part modules (views, scales, build) can all stand on it without importing each other.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Node counts of the term views timed in headless Chromium.
VIEW_SIZES = (100, 1000, 5000)


def say(options, message: str) -> None:
    """A progress line on stderr (when ``options.progress``), time-stamped."""
    if options.progress:
        sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
        sys.stderr.flush()
