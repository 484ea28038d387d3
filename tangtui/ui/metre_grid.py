"""The 平仄 grid of a 绝句 or 律诗 under a poem (Corpus and Compose panes).

Each line shows its characters, then their marks (平, 仄 in bold, 中 and ？ dimmed), with the
characters of every violation highlighted, the rhyme group beside each rhyming line, and the
violations below. The check runs in a worker (the first one loads the 平水韵 data); anything
that is not a regulated form hides the grid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from textual import work
from textual.message import Message
from textual.widgets import Static

if TYPE_CHECKING:
    from engine.metre.checker import MetreReport

_MARK_STYLE = {"平": "", "仄": "b", "中": "$text-muted", "？": "$text-muted"}


def grid_markup(report: MetreReport) -> str:
    """The grid as Textual markup."""
    from engine.metre.render import grid_rows, headline, links_text

    verdict_style = "$success" if report.passed else "$error"
    out = [f"[{verdict_style}]{escape(headline(report))}[/]"]
    for row in grid_rows(report):
        chars = "".join(f"[reverse $error]{escape(ch)}[/]" if c in row.bad else escape(ch)
                        for c, ch in enumerate(row.text))
        marks = "".join(f"[{_MARK_STYLE[m]}]{m}[/]" if _MARK_STYLE[m] else m
                        for m in row.marks)
        rhyme = f"  [$text-muted]{escape(row.rhyme)}[/]" if row.rhyme else ""
        out.append(f"{chars}{rhyme}\n{marks}")
    out.append(f"[$text-muted]{links_text(report)}[/]")
    out += [f"[$error]✗[/] {escape(v.message)}" for v in report.violations]
    return "\n".join(out)


class MetreGrid(Static):
    """Call :meth:`show_text` with a poem's text (or None to hide the grid)."""

    DEFAULT_CSS = """
    MetreGrid { height: auto; margin-top: 1; }
    MetreGrid.-hidden { display: none; }
    """

    class Checked(Message):
        """The grid markup of one request (None: not a regulated form)."""

        def __init__(self, token: int, report: MetreReport | None, markup: str | None) -> None:
            super().__init__()
            self.token, self.report, self.markup = token, report, markup

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__("", *args, **kwargs)
        self.token = 0
        self.report: MetreReport | None = None
        self.add_class("-hidden")

    def show_text(self, text: str | None) -> None:
        self.token += 1
        self.report = None
        if not text:
            self.add_class("-hidden")
            return
        self.check_metre(text, self.token)

    @work(thread=True, exclusive=True, exit_on_error=False, group="metre-grid")
    def check_metre(self, text: str, token: int) -> None:
        from engine.metre.checker import check
        from engine.metre.errors import MetreError

        try:
            report = check(text)
        except MetreError:
            self.post_message(self.Checked(token, None, None))
            return
        self.post_message(self.Checked(token, report, grid_markup(report)))

    def on_metre_grid_checked(self, message: MetreGrid.Checked) -> None:
        message.stop()
        if message.token != self.token:
            return  # a newer poem is being checked
        self.report = message.report
        self.set_class(message.markup is None, "-hidden")
        self.update(message.markup or "")
