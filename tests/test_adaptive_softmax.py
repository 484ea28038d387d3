"""The adaptive softmax: NumPy's hand-written forward/backward against finite differences and
against ``torch.nn.AdaptiveLogSoftmaxWithLoss`` (float64), its full distribution, and checkpoints
that cross engines."""

from __future__ import annotations

import numpy as np
import pytest

from engine.adaptive import auto_cutoffs, cutoffs_of, head_shapes
from engine.config import ModelConfig
from engine.gradcheck import GradcheckSetup, gradcheck, make_problem
from engine.numpy_engine.model import LanguageModel, output_logits, step

torch = pytest.importorskip("torch")
nn = torch.nn


def _setup(**kw) -> GradcheckSetup:  # noqa: ANN003
    base = {"softmax": "adaptive", "vocab": 13, "embed": 6, "hidden": 8, "batch": 4,
            "steps": 9, "seed": 3, "cutoffs": (4, 8)}
    return GradcheckSetup(**{**base, **kw})


def test_gradients_match_finite_differences() -> None:
    report = gradcheck(_setup(layers=1, dropout=0.0))
    assert report["ok"], report["params"]
    assert {"tail.0.proj.weight", "tail.1.out.weight", "head.bias"} <= set(report["params"])


def _torch_adaptive(params: dict[str, np.ndarray]) -> nn.Module:
    cuts = cutoffs_of(params)
    V = cuts[-1] + params[f"tail.{len(cuts) - 1}.out.weight"].shape[0]
    H = params["head.weight"].shape[1]
    d0 = params["tail.0.proj.weight"].shape[0]
    asm = nn.AdaptiveLogSoftmaxWithLoss(H, V, cuts, div_value=H / d0, head_bias=True).double()
    with torch.no_grad():
        asm.head.weight.copy_(torch.from_numpy(params["head.weight"]))
        asm.head.bias.copy_(torch.from_numpy(params["head.bias"]))
        for i in range(len(cuts)):
            asm.tail[i][0].weight.copy_(torch.from_numpy(params[f"tail.{i}.proj.weight"]))
            asm.tail[i][1].weight.copy_(torch.from_numpy(params[f"tail.{i}.out.weight"]))
    return asm


def test_loss_gradients_and_distribution_match_torch() -> None:
    prob = make_problem(_setup(layers=1))
    params, x, y, mask = prob["params"], prob["x"], prob["y"], prob["mask"]
    assert {int(c) for c in np.unique(np.searchsorted([4, 8], y, side="right"))} == {0, 1, 2}
    model = LanguageModel(1, np.float64)
    out, cache = model.forward(params, x, y, mask, prob["state"])
    top = cache["top"].copy()  # (T*B, H) time-major
    grads = model.backward(1.0, cache)

    asm = _torch_adaptive(params)
    h = torch.from_numpy(top).requires_grad_(True)
    y_t = torch.from_numpy(np.ascontiguousarray(y.T).reshape(-1))
    w = torch.from_numpy(np.ascontiguousarray(mask.T).reshape(-1))
    logp = asm(h, y_t).output  # (N,) target log-probs
    loss = -(logp * w).sum() / w.sum()
    loss.backward()
    assert out.loss == pytest.approx(loss.item(), rel=1e-10)
    t0, t1 = asm.tail[0], asm.tail[1]
    pairs = {"head.weight": asm.head.weight, "head.bias": asm.head.bias,
             "tail.0.proj.weight": t0[0].weight, "tail.0.out.weight": t0[1].weight,
             "tail.1.proj.weight": t1[0].weight, "tail.1.out.weight": t1[1].weight}
    for name, p in pairs.items():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-7, atol=1e-12,
                                   err_msg=name)
    full = output_logits(params, top)  # the exact full distribution
    np.testing.assert_allclose(full, asm.log_prob(h).detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.exp(full).sum(1), 1.0, rtol=1e-12)
    rows = np.arange(len(y_t))
    np.testing.assert_allclose(full[rows, y_t.numpy()], logp.detach().numpy(), rtol=1e-10)


def test_inference_step_gives_log_probabilities() -> None:
    prob = make_problem(_setup(layers=2))
    params = prob["params"]
    logp, _ = step(params, np.array([1, 5, 9]), [(h[:3], c[:3]) for h, c in prob["state"]])
    assert logp.shape == (3, 13)
    np.testing.assert_allclose(np.exp(logp).sum(1), 1.0, rtol=1e-12)


def test_cutoffs_follow_the_frequencies() -> None:
    counts = np.array([0, 0, 50] + [1000 // (r + 1) for r in range(2000)], np.float64)
    cuts = auto_cutoffs(counts)
    cum = np.cumsum(counts) / counts.sum()
    assert len(cuts) == 2 and cuts[0] < cuts[1] < len(counts)
    assert cum[cuts[0] - 1] >= 0.90 and cum[cuts[1] - 1] >= 0.99
    assert cuts[0] % 100 == 0 and cuts[1] % 100 == 0
    shapes = head_shapes(ModelConfig(hidden_dim=16, softmax="adaptive", cutoffs=cuts,
                                     tail_div=4.0), len(counts))
    assert shapes["head.weight"] == (cuts[0] + 2, 16)
    assert shapes["tail.0.proj.weight"] == (4, 16) and shapes["tail.1.proj.weight"] == (1, 16)
    assert shapes["tail.1.out.weight"] == (len(counts) - cuts[1], 1)
