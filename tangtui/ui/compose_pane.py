"""The Compose pane: choose a model, set start words / acrostic / prefix, form, rhyme and
sampling, generate with one key, inspect the candidates at any position, keep a history, save
and export poems."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, Static

from tangtui.errors import TangtuiError
from tangtui.ui.backends import STARTER, ComposedPoem, ComposeRequest
from tangtui.ui.messages import (
    ModelsListed,
    PoemSaved,
    PoemsComposed,
    PoemsExported,
    PositionChosen,
)
from tangtui.ui.metre_grid import MetreGrid
from tangtui.ui.pane import Pane
from tangtui.ui.poem_text import FORM_LABELS
from tangtui.ui.poem_view import PoemView, candidates_markup

if TYPE_CHECKING:
    pass

METRES = [("off", "off"), ("loose 二四六", "loose"), ("strict 平仄", "strict")]
NARROW = 100  # columns below which the candidates go under the poem
RHYME = "even lines"  # after the "Rhyme" label: "Rhyme [X] even lines: on"


def toggle_label(text: str, on: bool) -> str:
    return f"{text}: {'on' if on else 'off'}"


FORMS = [("free 自由", "free")] + [(f"{k} {v}", k) for k, v in FORM_LABELS.items() if k != "other"]


class ComposePane(Pane):
    """Compose poems with a model"""

    BINDINGS = [
        Binding("ctrl+g", "generate", "Generate"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+o", "export", "Export"),
    ]
    BACKGROUND = frozenset({"compose-models"})
    LEAVE_TO = "#compose-poem"
    COMMANDS = [
        ("Generate a poem", "Compose with the current settings (ctrl+g)", "action_generate"),
            ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[tuple[ComposeRequest, ComposedPoem]] = []
        self.saved: dict[int, int] = {}  # history index -> saved poem id (saved once only)
        self.current: int | None = None
        self.busy = False
        self.exported: Path | None = None
        self.model_chosen = False  # the user picked a model (else follow the default one)
        self._model_set = STARTER  # the model the pane itself put in the select

    def compose(self) -> ComposeResult:
        with Horizontal(id="compose-body"):
            with VerticalScroll(id="compose-controls"):
                for label, widget in self._controls():
                    with Horizontal(classes="field"):
                        yield Label(label, classes="field-label")
                        yield widget
                yield Button("Generate  ctrl+g", id="compose-go", variant="primary",
                             compact=True)
            with Vertical(id="compose-output"):
                with Horizontal(id="compose-top"):
                    with VerticalScroll(id="compose-poem-box"):
                        yield PoemView(id="compose-poem")
                        yield MetreGrid(id="compose-metre")
                    yield Static("", id="compose-candidates")
                yield OptionList(id="compose-history")

    def _controls(self) -> list[tuple[str, Any]]:
        return [
            ("Model", Select([("starter model", STARTER)], value=STARTER, allow_blank=False,
                             id="c-model", compact=True)),
            ("Start", Input(placeholder="start words 月", id="c-start", compact=True)),
            ("Acrostic", Input(placeholder="藏头 春夏秋冬", id="c-acrostic", compact=True)),
            ("Prefix", Input(placeholder="意境 (not printed)", id="c-prefix", compact=True)),
            ("Form", Select(FORMS, value="wujue", allow_blank=False, id="c-form", compact=True)),
            ("Temp", Input("0.8", type="number", id="c-temperature", compact=True)),
            ("Top-k", Input("0", type="integer", id="c-top-k", compact=True)),
            ("Top-p", Input("0.95", type="number", id="c-top-p", compact=True)),
            ("Seed", Input(placeholder="random", type="integer", id="c-seed", compact=True)),
            ("Best of", Input("4", type="integer", id="c-best-of", compact=True)),
            ("Rhyme", Checkbox(toggle_label(RHYME, False), id="c-rhyme", compact=True)),
            ("Metre", Select(METRES, value="off", allow_blank=False, id="c-metre", compact=True)),
        ]

    def on_mount(self) -> None:
        self.query_one("#compose-history", OptionList).border_title = "history"
        self.query_one("#compose-candidates", Static).border_title = "candidates"

    def focus_default(self) -> None:
        """The model picker: letters still switch panes; tab or a click enters a field."""
        self.focus_now(self.query_one("#c-model", Select))

    def on_resize(self) -> None:
        """Below NARROW columns the candidates go under the poem (a 七言 line never wraps)."""
        self.set_class(self.app.size.width < NARROW, "-narrow")

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        """Toggles say their state in words, not only by colour."""
        event.checkbox.label = toggle_label(RHYME, event.value)

    def on_pane_shown(self) -> None:
        self.list_models()

    @work(thread=True, exclusive=True, exit_on_error=False, group="compose-models")
    def list_models(self) -> None:
        from tangtui.runs.models import run_choices, starter_choice

        runs = self.services.store().list_runs()
        self.post_message(ModelsListed([starter_choice(), *run_choices(runs)]))

    def on_models_listed(self, message: ModelsListed) -> None:
        """Each model with its per-poem perplexity; the default is the best comparable one."""
        from tangtui.runs.models import default_model

        message.stop()
        select = self.query_one("#c-model", Select)
        options = [(c.label, c.key) for c in message.choices]
        value = select.value if self.model_chosen else default_model(message.choices)
        with select.prevent(Select.Changed):
            select.set_options(options)
            select.value = value if value in {v for _, v in options} else STARTER
        self._model_set = select.value

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "c-model" and event.value != self._model_set:
            self.model_chosen = True  # (the select also says so when mounted)

    def request(self) -> ComposeRequest:
        """The request the controls describe; TangtuiError names a bad value."""
        def text(wid: str) -> str:
            return self.query_one(f"#{wid}", Input).value.strip()

        def number(wid: str, label: str, kind: type) -> Any:
            try:
                return kind(text(wid))
            except ValueError:
                raise TangtuiError(f"{label} must be a number, got {text(wid)!r}") from None

        seed = number("c-seed", "seed", int) if text("c-seed") else None
        return ComposeRequest(
            model=str(self.query_one("#c-model", Select).value),
            start=text("c-start"), acrostic=text("c-acrostic"), prefix=text("c-prefix"),
            form=str(self.query_one("#c-form", Select).value),
            temperature=number("c-temperature", "temperature", float),
            top_k=number("c-top-k", "top-k", int), top_p=number("c-top-p", "top-p", float),
            rhyme=self.query_one("#c-rhyme", Checkbox).value, seed=seed,
            metre=str(self.query_one("#c-metre", Select).value),
            best_of=number("c-best-of", "best of", int) if text("c-best-of") else 1)

    def action_generate(self) -> None:
        if self.busy:
            return
        try:
            req = self.request()
        except TangtuiError as exc:
            self.notify(str(exc), severity="error")
            return
        self.busy = True
        self.query_one("#compose-go", Button).label = "Generating…"
        self.generate(req)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_generate()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "compose-go":
            event.stop()
            self.action_generate()

    @work(thread=True, exclusive=True, exit_on_error=False, group="compose-generate")
    def generate(self, request: ComposeRequest) -> None:
        self.post_message(PoemsComposed(request, self.services.generator().generate(request)))

    def worker_failed(self, worker: Any) -> None:
        if worker.group == "compose-generate":
            self._idle()
        elif worker.group == "compose-save":  # not saved after all: ctrl+s may try again
            self.saved = {i: pid for i, pid in self.saved.items() if pid}

    def _idle(self) -> None:
        self.busy = False
        self.query_one("#compose-go", Button).label = "Generate  ctrl+g"

    def on_poems_composed(self, message: PoemsComposed) -> None:
        message.stop()
        self._idle()
        history = self.query_one("#compose-history", OptionList)
        for poem in message.poems:
            self.history.append((message.request, poem))
            first = poem.lines[0] if poem.lines else poem.text
            history.add_option(f"{len(self.history):>2}. {escape(first)}")
        if message.poems:
            self.show(len(self.history) - 1)
            history.highlighted = len(self.history) - 1

    def show(self, index: int) -> None:
        self.current = index
        request, poem = self.history[index]
        self.query_one(PoemView).poem = poem
        self.query_one(MetreGrid).show_text(poem.text if request.form != "free" else None)
        best = f"best of {poem.best_of} · " if poem.best_of > 1 else ""
        self.query_one("#compose-candidates", Static).border_subtitle = \
            f"{best}log p {poem.score:.2f}/char" if poem.score is not None else ""

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index is not None and event.option_index != self.current:
            self.show(event.option_index)

    def on_position_chosen(self, message: PositionChosen) -> None:
        message.stop()
        poem = self.query_one(PoemView).poem
        self.query_one("#compose-candidates", Static).update(
            candidates_markup(poem, message.index))

    def action_save(self) -> None:
        if self.current is None:
            self.notify("Nothing to save yet: generate a poem first", severity="warning")
            return
        if self.current in self.saved:
            self.notify(f"Already saved as poem #{self.saved[self.current]}", title="Compose")
            return
        request, poem = self.history[self.current]
        self.saved[self.current] = 0  # pending: a second ctrl+s meanwhile saves nothing
        self.save(self.current, request, poem)

    @work(thread=True, exit_on_error=False, group="compose-save")
    def save(self, index: int, request: ComposeRequest, poem: ComposedPoem) -> None:
        run_id = None if request.model == STARTER else request.model
        store = self.services.store()
        kept = next((p for p in store.list_poems(run_id) if p.text == poem.text
                     and p.run_id == run_id), None)  # the same poem again (same seed, model)
        if kept is not None:
            self.post_message(PoemSaved(kept, index, new=False))
            return
        settings = {**request.settings(), "seed": poem.seed}
        self.post_message(PoemSaved(store.save_poem(poem.text, run_id, settings), index))

    def on_poem_saved(self, message: PoemSaved) -> None:
        message.stop()
        self.saved[message.index] = message.poem.id
        verb = "Saved" if message.new else "Already saved as"
        self.notify(f"{verb} poem #{message.poem.id}", title="Compose")

    def action_export(self) -> None:
        """Ask for a path, then write every saved poem there (as the Poems pane does)."""
        from tangtui.ui.poems_pane import ask_export

        ask_export(self)

    def on_poems_exported(self, message: PoemsExported) -> None:
        from tangtui.ui.poems_pane import tell_exported

        tell_exported(self, message, "Compose")
