"""The saved poems of the run store: everything a user keeps from Compose.

A mixin of :class:`tangtui.runs.store.Store`. A poem remembers the run that wrote it
(``run_id``) and its settings; deleting the run keeps the poem (``run_id`` becomes NULL and the
run's name and id stay in the settings as ``run_name``/``model``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from tangtui.runs.rows import SavedPoem, now_iso


class PoemsMixin:
    """save, list and delete poems."""

    _tx: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _query: Callable[..., list[tuple[Any, ...]]]

    def save_poem(self, text: str, run_id: str | None = None,
                  settings: dict[str, Any] | None = None) -> SavedPoem:
        created = now_iso()
        settings = settings or {}
        with self._tx() as db:
            cur = db.execute("INSERT INTO poems (run_id, text, settings, created) "
                             "VALUES (?, ?, ?, ?)",
                             (run_id, text, json.dumps(settings, ensure_ascii=False), created))
            poem_id = int(cur.lastrowid or 0)
        return SavedPoem(poem_id, run_id, text, settings, created)

    def list_poems(self, run_id: str | None = None) -> list[SavedPoem]:
        sql = "SELECT id, run_id, text, settings, created FROM poems"
        rows = (self._query(sql + " WHERE run_id = ? ORDER BY id DESC", (run_id,)) if run_id
                else self._query(sql + " ORDER BY id DESC"))
        return [SavedPoem(r[0], r[1], r[2], json.loads(r[3] or "{}"), r[4]) for r in rows]

    def delete_poem(self, poem_id: int) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM poems WHERE id = ?", (poem_id,)).rowcount > 0


def orphan_poems(db: sqlite3.Connection, run_id: str, run_name: str) -> None:
    """Keep the poems of a run being deleted: detach them, remembering its name and id."""
    rows = db.execute("SELECT id, settings FROM poems WHERE run_id = ?", (run_id,)).fetchall()
    for poem_id, raw in rows:
        settings = {**json.loads(raw or "{}"), "run_name": run_name}
        settings.setdefault("model", run_id)
        db.execute("UPDATE poems SET run_id = NULL, settings = ? WHERE id = ?",
                   (json.dumps(settings, ensure_ascii=False), poem_id))
