"""The fields of the Train form: which RunConfig keys it shows, how, and how it validates them.

No widgets here: :func:`build_config` turns the form's raw strings into a RunConfig plus a
``{key: message}`` dict of inline problems (from ``engine.config_check``); the checks of the
launch itself (name, device, memory) are :mod:`tangtui.runs.launch_check`'s, shared with the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config import (
    ENGINES,
    INITS,
    MODES,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    SCRIPTS,
    SOFTMAXES,
    ConfigError,
    RunConfig,
    set_field,
)


@dataclass(frozen=True)
class Field:
    key: str  # dotted RunConfig key
    label: str
    choices: tuple[str, ...] = ()  # a Select when given, else an Input
    hint: str = ""  # placeholder of an Input


SECTIONS: list[tuple[str, list[Field]]] = [
    ("Run", [
        Field("engine", "Engine", ENGINES),
        Field("train.device", "Device", hint="auto, cpu, cuda, cuda:N, mps"),
        Field("train.nproc", "Processes", hint="torch: N share each batch"),
        Field("train.precision", "Precision", PRECISIONS),
        Field("train.seed", "Seed"),
    ]),
    ("Corpus", [
        Field("corpus.script", "Script", SCRIPTS),
        Field("corpus.forms", "Forms", hint="all, or e.g. wujue,qijue"),
        Field("train.mode", "Mode", MODES),
    ]),
    ("Model", [
        Field("model.embed_dim", "Embed E"),
        Field("model.hidden_dim", "Hidden H"),
        Field("model.layers", "Layers"),
        Field("model.dropout", "Dropout"),
        Field("model.init", "Init", INITS),
        Field("model.forget_bias", "Forget bias"),
        Field("model.softmax", "Softmax", SOFTMAXES),
    ]),
    ("Optimizer", [
        Field("optim.name", "Optimizer", OPTIMIZERS),
        Field("optim.lr", "Learning rate"),
        Field("optim.momentum", "Momentum"),
        Field("optim.beta1", "Adam β1"),
        Field("optim.beta2", "Adam β2"),
        Field("optim.weight_decay", "Weight decay"),
        Field("optim.clip", "Clip norm"),
    ]),
    ("Schedule", [
        Field("train.schedule", "LR schedule", SCHEDULES),
        Field("train.warmup", "Warm-up"),
        Field("train.min_lr", "Min lr"),
        Field("train.batch_size", "Batch B", hint="global: shared by the processes"),
        Field("train.seq_len", "Seq len T"),
        Field("train.epochs", "Epochs"),
        Field("train.steps", "Steps", hint="0 = use epochs"),
        Field("train.poem_steps", "Poem steps", hint="stream: last updates on whole poems"),
    ]),
]
FIELDS: list[Field] = [f for _, fs in SECTIONS for f in fs]


def field_id(key: str) -> str:
    return "f-" + key.replace(".", "-").replace("_", "-")


def presets() -> list[str]:
    try:
        from engine.presets import preset_names
    except ImportError:  # pragma: no cover - presets land with the trainer
        return []
    return preset_names()


def base_config(preset: str | None) -> RunConfig:
    """Defaults, with the preset's overrides applied."""
    cfg = RunConfig()
    if preset:
        from engine.presets import apply_preset

        apply_preset(cfg, preset)
    return cfg


def value_text(cfg: RunConfig, key: str) -> str:
    """The text a field shows for ``cfg``'s value."""
    target: Any = cfg
    for part in key.split("."):
        target = getattr(target, part)
    if isinstance(target, list):
        return ",".join(str(v) for v in target)
    if isinstance(target, float):
        return f"{target:g}"
    return str(target)


def build_config(preset: str | None, values: dict[str, str]) -> tuple[RunConfig, dict[str, str]]:
    """The RunConfig the form describes and its problems, keyed by field."""
    cfg = base_config(preset)
    errors: dict[str, str] = {}
    for key, text in values.items():
        try:
            set_field(cfg, key, text.strip())
        except ConfigError as exc:
            errors[key] = str(exc).removeprefix(f"{key}: ")
    try:
        from engine.config_check import problems
    except ImportError:  # pragma: no cover
        return cfg, errors
    for key, message in problems(cfg).items():
        errors.setdefault(key, message)
    return cfg, errors
