"""Run config: validation messages, config files, presets, the lr schedule."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from engine.config import ConfigError, RunConfig, load_config_file, set_field
from engine.config_check import problems
from engine.presets import PRESETS, apply_preset, build_config
from engine.schedule import learning_rate


def test_defaults_are_valid() -> None:
    assert problems(RunConfig()) == {}


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("optim.lr", "0", "optim.lr: must be a number above 0 and at most 1,000,000, got 0"),
    ("optim.lr", "nan", "optim.lr: must be a number above 0 and at most 1,000,000, got nan"),
    ("model.hidden_dim", "0", "model.hidden_dim: must be an integer from 1 to 8,192, got 0"),
    ("model.layers", "17", "model.layers: must be an integer from 1 to 16, got 17"),
    ("model.dropout", "1", "model.dropout: must be a number at least 0 and below 1, got 1"),
    ("optim.accum", "-1", "optim.accum: must be an integer from 0 to 1,000,000 (0 or full = one "
                          "update per epoch), got -1"),
    ("train.mode", "words", "train.mode: must be one of stream, poem; got 'words'"),
    ("optim.name", "lion", "optim.name: must be one of sgd, momentum, nag, adagrad, adadelta, "
                           "rmsprop, adam; got 'lion'"),
    ("corpus.forms", "wujue,haiku", "corpus.forms: must be a list of wujue, qijue, wulv, qilv, "
                                    "other; got 'haiku'"),
    ("train.device", "tpu", "train.device: must be auto, cpu, cuda, cuda:N or mps; got 'tpu'"),
    ("train.precision", "bf16", "train.precision: bf16 needs the torch engine"),
    ("corpus.test_frac", "0", "corpus.test_frac: must be a number above 0 and at most 0.5, got 0"),
])
def test_validation_names_the_field_and_the_allowed_range(key, value, expected) -> None:
    cfg = RunConfig()
    set_field(cfg, key, value)
    with pytest.raises(ConfigError) as err:
        cfg.validate()
    assert str(err.value).startswith(expected)


def test_every_problem_is_reported_at_once() -> None:
    cfg = RunConfig()
    set_field(cfg, "train.batch_size", 0)
    set_field(cfg, "train.min_lr", 1.0)
    found = problems(cfg)
    assert set(found) == {"train.batch_size", "train.min_lr"}
    assert "must not exceed optim.lr (0.001)" in found["train.min_lr"]


def test_type_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"model.layers: expected int, got 'two'"):
        set_field(RunConfig(), "model.layers", "two")
    with pytest.raises(ConfigError, match="unknown config key 'model.heads'"):
        set_field(RunConfig(), "model.heads", "2")


def test_toml_and_json_files_layer_under_overrides(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text('engine = "numpy"\n[model]\nhidden_dim = 64\nlayers = 2\n'
                    '[optim]\nname = "sgd"\nlr = 0.5\n', encoding="utf-8")
    cfg = build_config("tiny", load_config_file(toml), None, ["model.layers=3"])
    assert (cfg.model.hidden_dim, cfg.model.layers, cfg.optim.name) == (64, 3, "sgd")
    assert cfg.model.embed_dim == 16  # from the preset, untouched by the file
    js = tmp_path / "run.json"
    js.write_text(json.dumps({"train": {"batch_size": 7}}), encoding="utf-8")
    assert build_config(None, load_config_file(js)).train.batch_size == 7


def test_a_checkpoint_meta_json_works_as_a_config_file(tmp_path: Path) -> None:
    meta = tmp_path / "meta.json"
    cfg = RunConfig()
    cfg.model.hidden_dim = 99
    meta.write_text(json.dumps({"format": 1, "config": cfg.to_dict(), "step": 3}))
    assert build_config(None, load_config_file(meta)).model.hidden_dim == 99


@pytest.mark.parametrize(("text", "suffix", "match"), [
    ("[model\n", ".toml", "not valid toml"),
    ("{", ".json", "not valid json"),
    ('{"model": {"depth": 2}}', ".json", "unknown config key 'model.depth'"),
    ("[1, 2]", ".json", "must hold a table"),
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", ".json", r"is not a text file \(not UTF-8\)"),
    ("model:\n  hidden_dim: 64\n", ".yaml", r"\.yaml files are not supported; use a \.toml or "),
    ('{"model": {"hidden_dim": true}}', ".json", "model.hidden_dim: expected an integer, got true"),
    ('{"train": {"compile": 2}}', ".json", "train.compile: expected true or false, got 2"),
    ('{"model": {"hidden_dim": "64"}}', ".json", "model.hidden_dim: expected an integer, got '64'"),
    ("[model]\nhidden_dim = 64.0\n", ".toml", "model.hidden_dim: expected an integer, got 64.0"),
    ('{"corpus": {"forms": "wujue"}}', ".json", "corpus.forms: expected a list of strings"),
    ('{"optim": {"name": 3}}', ".json", "optim.name: expected a string, got 3"),
])
def test_bad_config_files_fail_clearly(tmp_path: Path, text, suffix, match) -> None:
    path = tmp_path / f"c{suffix}"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        build_config(None, load_config_file(path))
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config_file(tmp_path / "missing.toml")


def test_exact_types_still_allow_an_integer_for_a_float_and_full_for_accum(tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"optim": {"lr": 1, "accum": "full"}, "train": {"compile": false}}')
    cfg = build_config(None, load_config_file(path))
    assert (cfg.optim.lr, cfg.optim.accum, cfg.train.compile) == (1.0, 0, False)
    assert isinstance(cfg.optim.lr, float)


def test_set_needs_key_equals_value() -> None:
    with pytest.raises(ConfigError, match="--set expects key=value"):
        build_config(None, None, None, ["model.layers"])


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_valid(name: str) -> None:
    cfg = apply_preset(RunConfig(), name)
    if name == "gpu":
        assert cfg.engine == "torch" and cfg.train.precision == "bf16"
    assert problems(cfg) == {}
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        apply_preset(cfg, "huge")


def test_engine_flag_wins_over_preset_and_is_validated() -> None:
    with pytest.raises(ConfigError, match="train.precision: bf16 needs the torch engine"):
        build_config("gpu", None, "numpy")


def test_schedules_with_warmup() -> None:
    cfg = build_config(None, None, None, ["optim.lr=1.0", "train.warmup=2",
                                          "train.schedule=cosine", "train.min_lr=0.1"])
    lrs = [learning_rate(cfg, t, 12) for t in range(12)]
    assert lrs[:3] == pytest.approx([0.5, 1.0, 1.0])
    # the cosine spans updates 2 .. 11: a third of the way at t = 5, min_lr at the last update
    assert lrs[5] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 3)))
    assert lrs[-1] == pytest.approx(0.1)
    set_field(cfg, "train.schedule", "step")
    set_field(cfg, "train.step_every", 3)
    set_field(cfg, "train.gamma", 0.5)
    assert [learning_rate(cfg, t, 12) for t in (2, 4, 5, 8)] == pytest.approx(
        [1.0, 1.0, 0.5, 0.25])
    set_field(cfg, "train.schedule", "constant")
    assert learning_rate(cfg, 11, 12) == 1.0


def test_full_batch_accumulation_is_spelled_full() -> None:
    cfg = build_config(None, None, None, ["optim.accum=full"])
    assert cfg.optim.accum == 0  # one update per epoch: the report's full-batch GD
    with pytest.raises(ConfigError, match="optim.accum"):
        build_config(None, None, None, ["optim.accum=half"])
