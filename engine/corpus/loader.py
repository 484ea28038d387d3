"""Load the bundled 全唐诗 corpus: parse, clean, classify, convert, and cache the result.

The committed file (``data/quantangshi.jsonl.xz``, or ``engine/_data/`` inside a wheel) is read
once; the cleaned poems of each script are cached as one flat text file under the user cache dir,
keyed by the source file's size and mtime, so a warm load only splits strings.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import threading
import time
from collections import Counter
from pathlib import Path

from engine.corpus.cleaning import clean_poem
from engine.corpus.errors import CorpusError
from engine.corpus.forms import classify_form
from engine.corpus.model import Corpus, Poem
from engine.corpus.script import SCRIPTS, to_simplified
from engine.faults import fault_point

CACHE_VERSION = 2
CORPUS_FILE = "quantangshi.jsonl.xz"
__all__ = ["CorpusError", "corpus_path", "default_cache_dir", "load_corpus"]

_RS, _FS = "\x1e", "\x1f"  # record and field separators of the cache file


def corpus_path() -> Path:
    """The bundled corpus file: inside the installed package, else in the checkout's data/."""
    here = Path(__file__).resolve().parent.parent
    env = os.environ.get("TANGTUI_CORPUS")
    candidates = [Path(env)] if env else [here / "_data" / CORPUS_FILE,
                                          here.parent / "data" / CORPUS_FILE]
    for path in candidates:
        if path.is_file():
            return path
    raise CorpusError(f"corpus file not found (looked for {', '.join(map(str, candidates))})")


def default_cache_dir() -> Path:
    """$TANGTUI_CACHE, else $TANGTUI_HOME/cache, else platformdirs' user cache dir for tangtui."""
    if os.environ.get("TANGTUI_CACHE"):
        return Path(os.environ["TANGTUI_CACHE"]).expanduser()
    env = os.environ.get("TANGTUI_HOME")
    if env:
        return Path(env).expanduser() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("tangtui", appauthor=False))


def _read_source(path: Path) -> tuple[list[dict], dict[str, str]]:
    try:
        raw = lzma.decompress(path.read_bytes()).decode("utf-8")
        records = json.loads("[" + raw.strip().replace("\n", ",") + "]")
    except (lzma.LZMAError, UnicodeDecodeError, json.JSONDecodeError, OSError) as exc:
        raise CorpusError(f"corpus file {path} is corrupt or unreadable ({exc})") from None
    poems = [r for r in records if r.get("kind") == "poem"]
    authors = {r["name"]: r.get("bio", "") for r in records if r.get("kind") == "author"}
    if not poems:
        raise CorpusError(f"corpus file {path} holds no poems")
    return poems, authors


def _build(path: Path) -> tuple[list[list[str]], dict[str, str], dict[str, int]]:
    """Clean every poem; rows of [id, title, author, lines ("\\n"-joined), split key, form]."""
    poems, authors = _read_source(path)
    counts: Counter[str] = Counter()
    rows: list[list[str]] = []
    for rec in poems:
        cleaned = clean_poem(rec.get("paragraphs", []), counts)
        if cleaned is None:
            continue
        key = hashlib.blake2b(cleaned.text.encode("utf-8"), digest_size=8).hexdigest()
        rows.append([rec["id"], rec.get("title", ""), rec.get("author", ""),
                     "\n".join(cleaned.lines), key, classify_form(cleaned.text)])
    stats = {"source_poems": len(poems), **{k: counts[k] for k in sorted(counts)}}
    return rows, authors, stats


def _convert(rows: list[list[str]], authors: dict[str, str]) -> tuple[list[list[str]], dict]:
    """Convert titles, authors, lines and bios to simplified in two OpenCC calls."""
    sep = _RS
    blob = sep.join(_FS.join((r[1], r[2], r[3])) for r in rows)
    names = list(authors)
    bios = sep.join(_FS.join((n, authors[n])) for n in names)
    conv, conv_bios = to_simplified(blob).split(sep), to_simplified(bios).split(sep)
    out = [[r[0], *c.split(_FS), r[4], r[5]] for r, c in zip(rows, conv, strict=True)]
    new_authors: dict[str, str] = {}
    for item in conv_bios:
        name, _, bio = item.partition(_FS)
        new_authors.setdefault(name, bio)
    return out, new_authors


def _cache_file(cache_dir: Path, path: Path, script: str) -> Path:
    st = path.stat()
    sig = hashlib.blake2b(f"{CACHE_VERSION}:{st.st_size}:{st.st_mtime_ns}:{path}".encode(),
                          digest_size=6).hexdigest()
    return cache_dir / f"corpus-v{CACHE_VERSION}-{script}-{sig}.txt"


def _write_cache(file: Path, rows: list[list[str]], authors: dict[str, str], stats: dict) -> None:
    """Write the cache in a background thread (it only saves the next load some time)."""
    threading.Thread(target=_write_cache_now, args=(file, rows, authors, stats),
                     name="tangtui-corpus-cache").start()


def _write_cache_now(file: Path, rows: list[list[str]], authors: dict[str, str],
                     stats: dict) -> None:
    """Write ``file`` through ``<file>.tmp<pid>``; on any error (a full disk) the partial
    temporary file is removed: a cache only saves time, it must never cost space."""
    tmp = file.with_suffix(f".tmp{os.getpid()}")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        head = json.dumps({"cleaning": stats, "authors": authors}, ensure_ascii=False)
        body = _RS.join(_FS.join(r) for r in rows)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(head + "\n")
            f.flush()
            fault_point("cache-write")
            f.write(body)
        tmp.replace(file)
    except OSError:  # an unwritable or full cache dir only costs speed
        tmp.unlink(missing_ok=True)


def clean_stale_temporaries(cache_dir: Path) -> list[Path]:
    """Remove ``*.tmp<pid>`` files whose writer is gone (killed mid-write); those removed."""
    removed = []
    for tmp in cache_dir.glob("corpus-v*.tmp*") if cache_dir.is_dir() else ():
        pid = tmp.suffix[4:]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _read_cache(file: Path) -> tuple[list[list[str]], dict[str, str], dict] | None:
    try:
        head, _, body = file.read_text(encoding="utf-8").partition("\n")
        meta = json.loads(head)
        rows = [rec.split(_FS) for rec in body.split(_RS)]
    except (OSError, ValueError):
        return None
    if not rows or any(len(r) != 6 for r in rows[:1]):
        return None
    return rows, meta["authors"], meta["cleaning"]


def load_corpus(script: str = "simplified", *, path: Path | None = None,
                cache_dir: Path | None = None) -> Corpus:
    """Load the cleaned corpus in ``script`` (simplified by default), using the cache if warm."""
    if script not in SCRIPTS:
        raise CorpusError(f"unknown script {script!r} (choose simplified or traditional)")
    started = time.perf_counter()
    path = path or corpus_path()
    if not path.is_file():
        raise CorpusError(f"corpus file not found: {path}")
    cache_dir = cache_dir or default_cache_dir()
    clean_stale_temporaries(cache_dir)
    file = _cache_file(cache_dir, path, script)
    cached = _read_cache(file) if file.is_file() else None
    to_write: list[tuple[Path, tuple]] = []  # written once the corpus is ready
    if cached is None:
        trad_file = _cache_file(cache_dir, path, "traditional")
        base = _read_cache(trad_file) if trad_file.is_file() else None
        if base is None:
            base = _build(path)
            to_write.append((trad_file, base))
        rows, authors, stats = base
        if script == "simplified":
            rows, authors = _convert(rows, authors)
            to_write.append((file, (rows, authors, stats)))
        cached = rows, authors, stats
    rows, authors, stats = cached
    poems = [Poem(*r[:4], r[5], r[4]) for r in rows]
    corpus = Corpus(poems, authors, script, stats)
    corpus.load_seconds = time.perf_counter() - started
    for target, content in to_write:
        _write_cache(target, *content)
    return corpus
