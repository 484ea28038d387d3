"""Build ``data/quantangshi.jsonl.xz`` from the npm package ``chinese-poetry@2.0.1``.

Usage::

    npm pack chinese-poetry@2.0.1          # -> chinese-poetry-2.0.1.tgz
    python data/build_corpus.py chinese-poetry-2.0.1.tgz

The output is xz-compressed JSON Lines, one record a line, in the upstream
(traditional) script and with the upstream text untouched; cleaning happens at
load time in ``engine.corpus`` so that every rule can report what it removed.

    {"kind": "meta", "source": ..., "poems": N, "authors": M}
    {"kind": "author", "name": ..., "bio": ...}
    {"kind": "poem", "id": ..., "title": ..., "author": ..., "paragraphs": [...]}

Poems are sorted by their upstream file number and position, so the ``id``
(upstream UUID) and the order are stable across rebuilds.
"""

from __future__ import annotations

import argparse
import json
import lzma
import re
import sys
import tarfile
from pathlib import Path

SOURCE = "chinese-poetry@2.0.1 (npm, MIT), dist/quantangshi"
POEM_FILE = re.compile(r"package/dist/quantangshi/poet\.tang\.(\d+)\.json$")
AUTHOR_FILE = "package/dist/quantangshi/authors.tang.json"


def read_package(tgz: Path) -> tuple[list[dict], list[dict]]:
    """Return (poems, authors) read from the npm tarball, in a stable order."""
    poems: list[tuple[int, int, dict]] = []
    authors: list[dict] = []
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar.getmembers():
            match = POEM_FILE.match(member.name)
            if match is None and member.name != AUTHOR_FILE:
                continue
            records = json.load(tar.extractfile(member))  # type: ignore[arg-type]
            if match is None:
                authors = records
                continue
            for pos, rec in enumerate(records):
                poems.append((int(match.group(1)), pos, rec))
    poems.sort(key=lambda t: (t[0], t[1]))
    return [p for _, _, p in poems], authors


def build(tgz: Path, out: Path) -> dict:
    poems, authors = read_package(tgz)
    lines = [{"kind": "meta", "source": SOURCE, "poems": len(poems), "authors": len(authors)}]
    lines += [{"kind": "author", "name": a["name"], "bio": a.get("desc", "")} for a in authors]
    seen: set[str] = set()
    for p in poems:
        pid = p["id"]
        if pid in seen:  # upstream ids are UUIDs; keep the first on a clash
            continue
        seen.add(pid)
        lines.append(
            {
                "kind": "poem",
                "id": pid,
                "title": p.get("title", ""),
                "author": p.get("author", ""),
                "paragraphs": p.get("paragraphs", []),
            }
        )
    text = "\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in lines)
    out.write_bytes(lzma.compress(text.encode("utf-8"), preset=9 | lzma.PRESET_EXTREME))
    return {"poems": len(seen), "authors": len(authors), "bytes": out.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tarball", type=Path, help="chinese-poetry-2.0.1.tgz from `npm pack`")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("quantangshi.jsonl.xz"))
    args = ap.parse_args(argv)
    print(json.dumps(build(args.tarball, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
