"""Export saved poems to a plain UTF-8 text file (one block per poem)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tangtui.errors import TangtuiError

if TYPE_CHECKING:
    from tangtui.runs.rows import SavedPoem


def export_poems(poems: Sequence[SavedPoem], folder: Path, name: str = "poems.txt") -> Path:
    """Write ``poems`` (oldest first) to ``folder/name`` atomically and return the path."""
    if not poems:
        raise TangtuiError("no saved poems to export: save one with ctrl+s first")
    blocks = []
    for p in sorted(poems, key=lambda p: p.id):
        lines = "\n".join(_lines(p.text))
        meta = json.dumps(p.settings, ensure_ascii=False, sort_keys=True)
        blocks.append(f"# {p.id} · {p.created} · {p.run_id or 'starter'}\n{lines}\n{meta}\n")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(blocks), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise TangtuiError(f"cannot export to {folder}: {exc.strerror or exc}") from None
    return path


def _lines(text: str) -> list[str]:
    lines, cur = [], ""
    for ch in text:
        cur += ch
        if ch in "。？！；":
            lines.append(cur)
            cur = ""
    return lines + [cur] if cur else lines
