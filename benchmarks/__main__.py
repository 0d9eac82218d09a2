"""``python -m benchmarks`` (``make bench``): run the benchmarks, print the tables, write benchmarks/latest.json.

Options: ``--scales 1,10`` (a quicker run; ``hpo`` is the merge with the Human Phenotype Ontology), ``--seed N``,
``--out FILE``, ``--no-build``, ``--no-views``, ``--keep DIR`` (keep the generated graphs and exports), ``--from-json FILE`` (print the tables of an earlier
run without measuring anything).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import table
from .run import LATEST, MERGES, SCALES, Options, run
from .generate import DEFAULT_SEED


def _scales(text: str) -> tuple[int | str, ...]:
    """Factors (whole numbers of 1 or more) and merge scale names (``hpo``), separated by commas."""
    values: list[int | str] = []
    for part in (v.strip() for v in text.split(",")):
        if not part:
            continue
        if part in MERGES:
            values.append(part)
            continue
        try:
            value = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--scales takes factors of 1 or more and merge scales ({', '.join(MERGES)}) separated by commas, "
                f"not {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"--scales takes factors of 1 or more, not {text!r}")
        values.append(value)
    if not values:
        raise argparse.ArgumentTypeError(f"--scales: no scale in {text!r}")
    return tuple(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=_scales, default=SCALES, help="scale factors and merge scales, e.g. 1,10,100,1000,hpo")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic graph")
    parser.add_argument("--out", type=Path, default=LATEST, help="where to write the JSON figures")
    parser.add_argument("--no-build", action="store_true", help="skip the build-stage timings")
    parser.add_argument("--no-views", action="store_true", help="skip the view timings in Chromium")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    parser.add_argument("--from-json", type=Path, default=None, help="print the tables of an earlier run")
    args = parser.parse_args(argv)
    if args.from_json is not None:
        try:
            report = json.loads(args.from_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"python -m benchmarks: error: {args.from_json}: {exc}\n")
            return 2
        sys.stdout.write(table.render(report))
        return 0
    options = Options(scales=args.scales, seed=args.seed, out=args.out, build=not args.no_build,
                      views=not args.no_views, keep=args.keep)
    report = run(options)
    sys.stdout.write(table.render(report))
    sys.stdout.write(f"\nFigures written to {options.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
