"""Every verdict is computed from the data: the same report comes out true or false as made-up
member rows change (no training here), and the interactive ``lab rm`` asks first."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from lab_fakes import fake_init_experiment

from engine.config import INITS
from engine.lab import get_experiment
from engine.lab.scales import base_config
from engine.lab.spec import LabData, MemberData
from tangtui.cli import main
from tangtui.runs.store import Store


def _member(group: str, key: str = "", status: str = "finished", ppl: float = 100.0,
            metrics: list | None = None, **probes: list) -> MemberData:
    return MemberData(key or f"{group}/s0", group, 0, "main", f"run-{group}", status,
                      base_config("tiny").to_dict(), {}, metrics or [(1, 6.0, 1.0)],
                      [(6, math.log(ppl), ppl)], dict(probes))


def _init_data(zeros_cos: float = 1.0, xavier_cos: float = 0.3, zeros_ppl: float = 600.0,
               status: str = "finished") -> LabData:
    members = []
    for scheme in INITS:
        cos = zeros_cos if scheme == "zeros" else xavier_cos if scheme == "xavier" else 0.2
        members.append(_member(scheme, status=status,
                               ppl=zeros_ppl if scheme == "zeros" else 300.0,
                               max_cos=[(0, 1.0 if scheme == "zeros" else cos), (6, cos)]))
    return LabData("init", "tiny", 1, members)


@pytest.mark.parametrize(("kw", "expect"), [
    ({}, (True, True, True)),
    ({"zeros_cos": 0.999}, (False, True, True)),  # zeros drifted from symmetric
    ({"xavier_cos": 0.9995}, (True, False, True)),  # xavier never broke the symmetry
    ({"zeros_ppl": 250.0}, (True, True, False)),  # zeros ended better than the rest
    ({"status": "running"}, (None, None, None)),  # not done: not yet known
])
def test_the_init_verdicts_follow_the_data(kw: dict, expect: tuple) -> None:
    verdicts = get_experiment("init").report(_init_data(**kw)).verdicts
    assert tuple(v.holds for v in verdicts) == expect


def _grad_data(worst: float, zero_flow: float, decay: float) -> LabData:
    members = []
    for scheme in INITS:
        flow = [zero_flow * decay ** d for d in range(5)] if scheme == "zeros" else \
            [decay ** d for d in range(5)]
        members.append(_member(scheme, flow=[(0, flow), (4, flow)]))
    check = {"params": {"W_hh": {"elements": 64, "rel_error": worst, "worst_element": -7.0,
                                 "hist": [64]}}, "edges": [-8.0, -7.0],
             "max_rel_error": worst}
    return LabData("gradients", "tiny", 1, members, {"gradcheck": check})


@pytest.mark.parametrize(("args", "expect"), [
    ((1e-9, 0.0, 0.01), (True, True, True)),
    ((1e-3, 0.0, 0.01), (False, True, True)),  # the hand-written gradient is wrong
    ((1e-9, 1e-4, 0.01), (True, False, True)),  # zero init passed some gradient back
    ((1e-9, 0.0, 0.9), (True, True, False)),  # the gradient did not vanish over the window
])
def test_the_gradient_verdicts_follow_the_data(args: tuple, expect: tuple) -> None:
    verdicts = get_experiment("gradients").report(_grad_data(*args)).verdicts
    assert tuple(v.holds for v in verdicts) == expect


def _ppl_data(first_loss: float, per_poem: float, padded: float) -> LabData:
    m = _member("model", "model/s0", metrics=[(1, first_loss, 1.0), (2, 5.0, 1.0)])
    found = {"per_poem": per_poem, "stream": per_poem * 1.1, "padded": padded,
             "targets": 100, "stream_targets": 110, "pad_targets": 400, "poems": 4}
    return LabData("perplexity", "tiny", 1, [m], {"three_ways": {m.key: found}}, 665)


@pytest.mark.parametrize(("args", "expect"), [
    ((6.5, 40.0, 5.0), (True, True, True)),
    ((8.0, 40.0, 5.0), (False, True, True)),  # the first loss is far from ln 665 = 6.50
    ((6.5, 40.0, 45.0), (True, False, True)),  # padding did not lower it
    ((6.5, 15.0, 5.0), (True, True, False)),  # the honest figure beats the report's 18.75
])
def test_the_perplexity_verdicts_follow_the_data(args: tuple, expect: tuple) -> None:
    verdicts = get_experiment("perplexity").report(_ppl_data(*args)).verdicts
    assert tuple(v.holds for v in verdicts) == expect


def test_rm_asks_on_a_terminal_and_removes_the_members_folders(
        tangtui_home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = Store()
    exp_id = fake_init_experiment(store)
    dirs = [store.run_dir(m.run_id) for m in store.experiment_members(exp_id)]
    for d in dirs:
        (d / "ckpt-000006.safetensors").parent.mkdir(parents=True, exist_ok=True)
        (d / "ckpt-000006.safetensors").write_bytes(b"x")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n", "y"])
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or next(answers))
    assert main(["lab", "rm", exp_id]) == 1  # declined: nothing deleted
    assert store.list_experiments() and all(d.is_dir() for d in dirs)
    assert main(["lab", "rm", exp_id]) == 0
    assert len(asked) == 2 and f"{len(INITS)} member runs" in asked[0]
    assert store.list_experiments() == [] and not any(d.exists() for d in dirs)
    assert store.list_runs() == []
    assert "removed experiment" in capsys.readouterr().out
