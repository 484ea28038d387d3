"""Export saved poems to a file the user names: UTF-8 text (one block per poem) or JSON."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tangtui.errors import TangtuiError
from tangtui.ui.poem_text import couplets

if TYPE_CHECKING:
    from tangtui.runs.rows import SavedPoem


def export_poems(poems: Sequence[SavedPoem], path: Path) -> Path:
    """Write ``poems`` (oldest first) to ``path`` atomically and return it (made absolute).

    A ``.json`` path gets a list of ``{id, run_id, created, text, lines, settings}``; any other
    path a text block per poem: ``# id · created · model``, its couplets, its settings.
    """
    if not poems:
        raise TangtuiError("no saved poems to export: save one in Compose with ctrl+s first")
    path = Path(path).expanduser().absolute()
    ordered = sorted(poems, key=lambda p: p.id)
    if path.suffix.lower() == ".json":
        body = json.dumps([{"id": p.id, "run_id": p.run_id, "created": p.created,
                            "text": p.text, "lines": couplets(p.text), "settings": p.settings}
                           for p in ordered], ensure_ascii=False, indent=1) + "\n"
    else:
        body = "\n".join(
            f"# {p.id} · {p.created} · {p.run_id or p.settings.get('run_name', 'starter')}\n"
            + "\n".join(couplets(p.text))
            + f"\n{json.dumps(p.settings, ensure_ascii=False, sort_keys=True)}\n"
            for p in ordered)
    if path.is_dir():
        raise TangtuiError(f"cannot export to {path}: it is a folder; name a file in it")
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise TangtuiError(f"cannot export to {path}: {exc.strerror or exc}") from None
    return path
