"""Run configuration: one dataclass per concern, nested in :class:`RunConfig`, saved with each run.

Overrides use dotted keys, e.g. ``model.hidden_dim=256`` or ``optim.name=sgd``.
"""

from __future__ import annotations

import json
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.config_check import problems
from engine.config_choices import (  # noqa: F401  (re-exported)
    BACKENDS,
    ENGINES,
    FORMS,
    INITS,
    MODES,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    SCRIPTS,
    SOFTMAXES,
)


@dataclass
class CorpusConfig:
    script: str = "simplified"  # simplified (OpenCC t2s) or traditional (as in the source)
    forms: list[str] = field(default_factory=list)  # keep only these forms; empty keeps all
    authors: list[str] = field(default_factory=list)  # keep only these authors; empty keeps all
    min_len: int = 0  # minimum poem length in characters (punctuation included); 0 = no bound
    max_len: int = 0  # maximum poem length in characters; 0 = no bound
    min_freq: int = 1  # characters seen fewer times become <unk>
    max_vocab: int = 0  # keep the most frequent characters only; 0 = no cap
    test_frac: float = 0.05  # held-out share, chosen by a hash of each poem's text
    max_poems: int = 0  # keep only the first N poems after filtering (smoke tests); 0 = all


@dataclass
class ModelConfig:
    embed_dim: int = 512  # E, embedding width
    hidden_dim: int = 512  # H, LSTM hidden and cell width
    layers: int = 1  # stacked LSTM layers
    dropout: float = 0.0  # between LSTM layers and before the head (training only)
    init: str = "standard"  # zeros | uniform | standard | xavier | he | report
    init_scale: float = 0.08  # a of the `uniform` scheme, U(-a, a)
    forget_bias: float = 0.0  # added to the forget-gate slice of bias_ih (1.0 is a common choice)
    softmax: str = "full"  # full | adaptive (Grave et al. 2017: a head plus tail clusters)
    cutoffs: list[int] = field(default_factory=list)  # adaptive: vocab ranks starting each tail
    #   cluster; empty = chosen from the training characters' frequencies (engine.adaptive)
    tail_div: float = 1.0  # adaptive: tail cluster i projects to H / tail_div**(i + 1) dims


@dataclass
class OptimConfig:
    name: str = "adam"  # sgd | momentum | nag | adagrad | adadelta | rmsprop | adam
    lr: float = 1e-3  # peak learning rate; follows optim.name's standard one (adadelta 1.0)
    momentum: float = 0.9  # momentum / nag
    beta1: float = 0.9  # adam
    beta2: float = 0.999  # adam
    alpha: float = 0.99  # rmsprop smoothing
    rho: float = 0.9  # adadelta smoothing
    eps: float = 0.0  # 0 = the optimizer's own (torch's): adagrad 1e-10, adadelta 1e-6, else 1e-8
    weight_decay: float = 0.0  # L2 added to the gradient, as torch.optim does
    clip: float = 5.0  # global-norm clipping threshold; 0 disables
    accum: int = 1  # batches per update; 0 (or "full") means the whole epoch (full-batch GD)


@dataclass
class TrainConfig:
    mode: str = "stream"  # stream (windows, carried state, no padding) | poem (a row each, masked)
    batch_size: int = 128  # B
    seq_len: int = 125  # T, window length in stream mode (poem mode pads to the longest poem)
    epochs: int = 10  # passes over the training split (ignored when steps > 0)
    steps: int = 0  # optimizer updates to run; 0 = run `epochs`
    schedule: str = "constant"  # constant | cosine | step
    warmup: int = 0  # linear warm-up updates
    min_lr: float = 0.0  # floor of the cosine schedule
    step_every: int = 1000  # step schedule: decay every this many updates
    gamma: float = 0.5  # step schedule: multiply the lr by this
    seed: int = 1234  # weights, dropout, batch order
    device: str = "auto"  # torch: auto (cuda, mps, cpu) | cpu | cuda | cuda:N | mps
    precision: str = "fp32"  # fp32 | fp64 | tf32 (CUDA) | bf16 (CUDA autocast)
    compile: bool = False  # torch.compile the model (torch engine)
    nproc: int = 1  # torch: training processes (torchrun + DDP); batch_size rows are shared out
    backend: str = "auto"  # torch, nproc > 1: auto (nccl on CUDA, else gloo) | gloo | nccl
    eval_every: int = 200  # held-out evaluation every this many updates (and at the end)
    early_eval: bool = True  # a first evaluation, samples, checkpoint after 5 % or 2 minutes
    eval_batches: int = 0  # batches of the test split per evaluation; 0 = all of it
    sample_every: int = 200  # live samples every this many updates
    checkpoint_every: int = 500  # checkpoint every this many updates (and at eval / stop / end)
    log_every: int = 10  # train metrics row every this many updates
    keep_checkpoints: int = 3  # latest step checkpoints kept on disk (the best one is kept apart)
    poem_steps: int = 0  # stream mode: the last this many updates train on whole poems instead
    poem_batch: int = 64  # poems per batch in that finishing stage (each from a zero state)


@dataclass
class RunConfig:
    engine: str = "numpy"  # numpy | torch
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> RunConfig:
        """Raise :class:`ConfigError` naming every bad field and its allowed range; return self."""
        found = problems(self)
        if found:
            raise ConfigError("; ".join(f"{k}: {v}" for k, v in found.items()))
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Build from a (possibly partial) nested dict (a config file, a stored run).

        Unknown keys raise ConfigError, and so do values of the wrong JSON/TOML type (``true``
        for an integer, ``2`` for a boolean, ``"256"`` for an integer): types must be exact.
        """
        cfg = cls()
        for key, value in data.items():
            if isinstance(value, dict):
                section = getattr(cfg, key, None)
                if section is None or not hasattr(section, "__dataclass_fields__"):
                    raise ConfigError(f"unknown config section {key!r}")
                for sub, v in sorted(value.items(), key=lambda kv: kv[0] != "name"):
                    set_field(cfg, f"{key}.{sub}", v, parse_text=False)
            else:
                set_field(cfg, key, value, parse_text=False)
        return cfg


class ConfigError(ValueError):
    """A bad config value; the message names the field and what is allowed."""


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a nested config dict from a ``.toml`` or ``.json`` file (sections as in RunConfig).

    A checkpoint's ``meta.json`` works too: its ``config`` entry is used.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in ("", ".json", ".toml"):
        raise ConfigError(f"config file {file}: {suffix} files are not supported; use a .toml "
                          "or .json file")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {file} is not a text file (not UTF-8); use a .toml "
                          "or .json file") from None
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise ConfigError(f"config file {file} is not valid {suffix[1:] or 'JSON'}: "
                          f"{exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {file} must hold a table of sections")
    if isinstance(data.get("config"), dict) and "format" in data:
        data = data["config"]
    return data


def set_field(cfg: RunConfig, dotted: str, value: Any, parse_text: bool = True) -> None:
    """Set ``section.field`` (or a top-level field) on ``cfg``.

    With ``parse_text`` a string is parsed to the field's type (``--set`` overrides, form
    fields); other values must already have the field's exact type (no bool for an integer,
    no number for a bool, no float for an integer).
    """
    parts = dotted.split(".")
    target: Any = cfg
    for part in parts[:-1]:
        if not hasattr(target, "__dataclass_fields__") or part not in target.__dataclass_fields__:
            raise ConfigError(f"unknown config key {dotted!r}")
        target = getattr(target, part)
    name = parts[-1]
    known = {f.name: f for f in fields(target)}
    if name not in known or hasattr(getattr(target, name), "__dataclass_fields__"):
        raise ConfigError(f"unknown config key {dotted!r}")
    current = getattr(target, name)
    if dotted == "optim.accum" and isinstance(value, str) and value.strip().lower() == "full":
        value = 0  # the report's full-batch gradient descent: one update per epoch
    if isinstance(value, str) and parse_text:
        new = _coerce(dotted, value, current)
    else:
        item = typing.get_args(typing.get_type_hints(type(target))[name])
        new = _exact(dotted, value, current, item[0] if item else str)
    if dotted == "optim.name":  # a rate still at the old optimizer's standard follows the new
        from engine.optim_defaults import standard_lr

        if cfg.optim.lr == standard_lr(current) and isinstance(new, str):
            cfg.optim.lr = standard_lr(new)
    setattr(target, name, new)


_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
_IS = {bool: lambda v: isinstance(v, bool),
       int: lambda v: isinstance(v, int) and not isinstance(v, bool),
       float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
       str: lambda v: isinstance(v, str)}


def _exact(key: str, value: Any, current: Any, item: type = str) -> Any:
    """``value`` if it has the type of ``current`` (an int also serves a float field; a list
    field takes a list of ``item``)."""
    kind = type(current)
    if kind is list:
        ok = isinstance(value, list) and all(_IS[item](x) for x in value)
        want = f"a list of {_KINDS[item].split(' ', 1)[1]}s"
    else:
        ok, want = _IS[kind](value), _KINDS[kind]
    if not ok:
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (bool, list)) \
            else repr(value)
        raise ConfigError(f"{key}: expected {want}, got {shown}")
    return float(value) if kind is float else list(value) if kind is list else value


def _coerce(key: str, value: Any, current: Any) -> Any:
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if isinstance(current, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, list):
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            items = list(value)
            if key == "model.cutoffs":
                if any(isinstance(v, bool) or not float(v).is_integer() for v in items):
                    raise ValueError
                return [int(v) for v in items]
            return items
        return str(value)
    except (TypeError, ValueError):
        kind = type(current).__name__
        raise ConfigError(f"{key}: expected {kind}, got {value!r}") from None
