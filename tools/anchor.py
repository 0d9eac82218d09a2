"""Maintainer tool: the passage anchor of a claim, ready to paste into ontology/anchors.ttl.

    python tools/anchor.py CLAIM SEED "first words of the passage" "last words of the passage"

CLAIM is the claim's local name (``ev-bml-burden-womac-pain-variance-2025``), SEED the seed number
(``001``). The passage runs from the first occurrence of the first words to the end of the next occurrence
of the last words; ``--occurrence N`` takes the N-th occurrence of the first words instead (seed 002
repeats some paragraphs). The passage is printed on stderr for you to read, the Turtle on stdout.
Offsets count Unicode code points of the seed file decoded as UTF-8 (no newline translation), as
``bml:statedAt`` defines them. Run ``pytest tests/test_anchors.py`` afterwards. Reads the seeds from
``../shared/seeds/`` beside the checkout unless ``--seeds`` names another folder. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("claim", help="claim local name, e.g. ev-bml-burden-womac-pain-variance-2025")
    parser.add_argument("seed", help="seed number: 000, 001, 002 or 003")
    parser.add_argument("first", help="the first words of the passage, as the seed prints them")
    parser.add_argument("last", help="the last words of the passage, as the seed prints them")
    parser.add_argument("--occurrence", type=int, default=1, help="take the N-th occurrence of FIRST (default 1)")
    parser.add_argument("--seeds", type=Path, default=REPO.parent / "shared" / "seeds", help="the seed folder")
    args = parser.parse_args(argv)

    files = sorted(args.seeds.glob(f"{args.seed}_*.txt"))
    if len(files) != 1:
        print(f"anchor: error: no single seed file {args.seed}_*.txt in {args.seeds}", file=sys.stderr)
        return 2
    data = files[0].read_bytes()
    text = data.decode("utf-8")
    count = text.count(args.first)
    if count < args.occurrence or args.occurrence < 1:
        print(f"anchor: error: {args.first!r} occurs {count} time(s) in {files[0].name}", file=sys.stderr)
        return 2
    start = -1
    for _ in range(args.occurrence):
        start = text.index(args.first, start + 1)
    end_at = text.find(args.last, start)
    if end_at < 0:
        print(f"anchor: error: {args.last!r} does not follow the first words in {files[0].name}", file=sys.stderr)
        return 2
    end = end_at + len(args.last)
    if count > 1:
        print(f"(note: the first words occur {count} times; this is occurrence {args.occurrence})", file=sys.stderr)
    print(f"--- {files[0].name} [{start}:{end}] ({end - start} characters)\n{text[start:end]}\n---", file=sys.stderr)
    print(f"claim:{args.claim} bml:statedAt\n"
          f"    [ a oa:TextPositionSelector ; bml:inSeed src:seed-{args.seed} ; oa:start {start} ; oa:end {end} ;\n"
          f"      bml:seedSha256 \"{hashlib.sha256(data).hexdigest()}\" ] .")
    return 0


if __name__ == "__main__":
    sys.exit(main())
