"""Hand-written gradients against central finite differences, and ``tangtui gradcheck``."""

from __future__ import annotations

import json

import pytest

from engine.config import ModelConfig
from engine.gradcheck import GradcheckSetup, gradcheck
from engine.init import param_shapes
from tangtui.cli import main


def test_every_parameter_within_tolerance(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gradcheck", "--engine", "numpy", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    s = GradcheckSetup()
    names = set(param_shapes(ModelConfig(embed_dim=s.embed, hidden_dim=s.hidden,
                                         layers=s.layers), s.vocab))
    adaptive = set(param_shapes(ModelConfig(embed_dim=s.embed, hidden_dim=s.hidden,
                                            layers=s.layers, softmax="adaptive",
                                            cutoffs=list(s.cutoffs)), 9))
    assert len(names) == 11 and len(adaptive) == 15  # a 2-layer model; 2 tails of 2 tensors
    assert set(report["params"]) == names | {f"{n} (adaptive)" for n in adaptive}
    assert report["max_rel_error"] <= 1e-6
    assert report["max_rel_error"] == max(report["params"].values())
    assert report["ok"] and report["engine"] == "numpy"


@pytest.mark.parametrize("setup", [GradcheckSetup(layers=1, dropout=0.0, seed=4),
                                   GradcheckSetup(layers=3, batch=2, steps=4, hidden=3, seed=9)])
def test_other_shapes(setup: GradcheckSetup) -> None:
    assert gradcheck(setup)["max_rel_error"] <= 1e-6


def test_a_wrong_gradient_is_caught(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The check has teeth: a backward pass 0.1% off on one tensor fails it, exit code 1."""
    import engine.numpy_engine.lstm as lstm

    original = lstm.lstm_backward

    def broken(dhs, cache, need_dx=True):  # noqa: ANN001, ANN202
        dx, grads = original(dhs, cache, need_dx)
        grads["W_hh"] = grads["W_hh"] * 1.001
        return dx, grads

    monkeypatch.setattr("engine.numpy_engine.model.lstm_backward", broken)
    assert main(["gradcheck", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"]
    assert report["params"]["lstm.weight_hh_l0"] > 1e-4
    assert report["params"]["head.weight"] <= 1e-6


def test_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "head.bias" in out and "max relative error" in out and "FAIL" not in out
