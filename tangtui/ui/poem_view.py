"""A generated poem with a cursor on one character, and the candidates at that position."""

from __future__ import annotations

from rich.markup import escape
from textual.binding import Binding
from textual.reactive import reactive

from tangtui.ui.backends import ComposedPoem
from tangtui.ui.kinsoku import KinsokuStatic
from tangtui.ui.messages import PositionChosen

BAR = 16  # cells of a probability bar


class PoemView(KinsokuStatic, can_focus=True):
    """Shows ``poem``; left/right (or up/down by line) move the cursor over its characters."""

    BINDINGS = [
        Binding("left", "move(-1)", "Previous character", show=False),
        Binding("right", "move(1)", "Next character", show=False),
        Binding("up", "line(-1)", "Previous line", show=False),
        Binding("down", "line(1)", "Next line", show=False),
        Binding("home", "to(0)", "First character", show=False),
        Binding("end", "to(-1)", "Last character", show=False),
    ]

    poem: reactive[ComposedPoem | None] = reactive(None, always_update=True)
    cursor: reactive[int] = reactive(0)

    def watch_poem(self, poem: ComposedPoem | None) -> None:
        self.cursor = 0
        self._draw()
        self.post_message(PositionChosen(0))

    def watch_cursor(self, index: int) -> None:
        self._draw()

    def _draw(self) -> None:
        poem = self.poem
        if poem is None:
            self.update("[dim]Type start words (or an acrostic) on the left and press "
                        "[b]enter[/] or [b]ctrl+g[/] to generate.[/]")
            return
        out, i = [], 0
        for line in poem.lines:
            cells = []
            for ch in line:
                cells.append(f"[reverse]{escape(ch)}[/]" if i == self.cursor else escape(ch))
                i += 1
            out.append("".join(cells))
        self.update("\n".join(out))

    def _line_starts(self) -> list[int]:
        starts, i = [], 0
        for line in self.poem.lines if self.poem else []:
            starts.append(i)
            i += len(line)
        return starts

    def _set(self, index: int) -> None:
        if self.poem is None or not self.poem.text:
            return
        index = max(0, min(index, len(self.poem.text) - 1))
        if index != self.cursor:
            self.cursor = index
            self.post_message(PositionChosen(index))

    def action_move(self, delta: int) -> None:
        self._set(self.cursor + delta)

    def action_to(self, index: int) -> None:
        self._set(index if index >= 0 else len(self.poem.text) - 1 if self.poem else 0)

    def action_line(self, delta: int) -> None:
        starts = self._line_starts()
        if not starts:
            return
        row = max(i for i, s in enumerate(starts) if s <= self.cursor)
        col = self.cursor - starts[row]
        row = max(0, min(row + delta, len(starts) - 1))
        self._set(starts[row] + col)


def candidates_markup(poem: ComposedPoem | None, index: int) -> str:
    """The chosen character and the model's top candidates there, with probability bars."""
    if poem is None or not poem.text:
        return ""
    if index >= len(poem.candidates) or not poem.candidates[index]:
        return f"[b]{escape(poem.text[index])}[/] [dim]at {index + 1}: no candidates[/]"
    chosen = poem.text[index]
    rows = [f"[b]{escape(chosen)}[/] [dim]at {index + 1} of {len(poem.text)}[/]"]
    if index < len(poem.chosen):
        prob, rank = poem.chosen[index]
        rows.append(f"[dim]chosen:[/] {prob:.1%} · rank {rank:,}" if rank else
                    f"[dim]chosen:[/] {prob:.1%}")
    for ch, p in poem.candidates[index]:
        bar = "█" * max(1, round(p * BAR)) if p > 0 else ""
        label = f"[b $accent]{escape(ch)}[/]" if ch == chosen else escape(ch)
        rows.append(f"{label} {p:6.1%} [$accent]{bar}[/]")
    return "\n".join(rows)
