"""Plain text of poems for the panes (no widgets here): corpus poems and form names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

if TYPE_CHECKING:
    from engine.corpus import Poem

FORM_LABELS = {"wujue": "五言绝句", "qijue": "七言绝句", "wulv": "五言律诗", "qilv": "七言律诗",
               "other": "其他"}
FORM_SHORT = {"wujue": "五绝", "qijue": "七绝", "wulv": "五律", "qilv": "七律", "other": "其他"}


def poem_markup(poem: Poem, bio: str | None) -> str:
    """Title, author and form, the lines one per row, then the author's bio."""
    head = (f"[b]{escape(poem.title)}[/]\n[i]{escape(poem.author)}[/]  "
            f"[dim]{FORM_LABELS.get(poem.form, poem.form)} · {escape(poem.id[:8])}[/]")
    body = "\n".join(escape(line) for line in poem.lines)
    parts = [head, "", body]
    if bio:
        parts += ["", f"[dim]{escape(bio)}[/]"]
    return "\n".join(parts)


def couplets(text: str) -> list[str]:
    """A poem's text cut after each sentence end (。？！；): one couplet per row."""
    rows, cur = [], ""
    for ch in text.replace("\n", ""):
        cur += ch
        if ch in "。？！；":
            rows.append(cur)
            cur = ""
    return rows + [cur] if cur else rows
