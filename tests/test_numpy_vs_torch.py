"""The NumPy engine's loss, logits and every gradient against torch autograd (float64, 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.gradcheck import GradcheckSetup, make_problem
from engine.numpy_engine.model import LanguageModel

torch = pytest.importorskip("torch")
nn = torch.nn


def torch_model(params: dict[str, np.ndarray], layers: int) -> nn.Module:
    V, E = params["embedding.weight"].shape
    H = params["lstm.weight_hh_l0"].shape[1]
    model = nn.ModuleDict({
        "embedding": nn.Embedding(V, E),
        "lstm": nn.LSTM(E, H, num_layers=layers, batch_first=True),
        "head": nn.Linear(H, V),
    }).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(params[name]))
    return model


def torch_loss(model, x, y, mask, state):
    h0 = torch.from_numpy(np.stack([h for h, _ in state]))  # (layers, B, H)
    c0 = torch.from_numpy(np.stack([c for _, c in state]))
    emb = model["embedding"](torch.from_numpy(x))
    out, (h_T, c_T) = model["lstm"](emb, (h0, c0))
    logits = model["head"](out)  # (B, T, V)
    nll = nn.functional.cross_entropy(logits.transpose(1, 2), torch.from_numpy(y),
                                      reduction="none")
    m = torch.from_numpy(mask)
    return (nll * m).sum() / m.sum(), logits, h_T, c_T


def close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> bool:
    """Relative to the tensor's scale, so near-zero entries do not dominate."""
    return float(np.max(np.abs(a - b))) <= rtol * max(float(np.max(np.abs(b))), 1e-12)


@pytest.mark.parametrize("layers", [1, 2])
def test_loss_logits_and_gradients_match_autograd(layers: int) -> None:
    prob = make_problem(GradcheckSetup(layers=layers, vocab=11, embed=6, hidden=5, batch=4,
                                       steps=7, seed=3))
    params = prob["params"]
    for k in range(layers):  # torch's two bias vectors: both non-zero and distinct
        assert np.abs(params[f"lstm.bias_hh_l{k}"]).min() > 0
        assert not np.allclose(params[f"lstm.bias_ih_l{k}"], params[f"lstm.bias_hh_l{k}"])
    model = LanguageModel(layers, np.float64)
    x, y, mask, state = prob["x"], prob["y"], prob["mask"], prob["state"]
    out, cache = model.forward(params, x, y, mask, state)
    grads = {k: v.copy() for k, v in model.backward(1.0, cache).items()}
    logits, _ = model.logits(params, x, state)

    tm = torch_model(params, layers)
    loss, t_logits, h_T, c_T = torch_loss(tm, x, y, mask, state)
    loss.backward()

    assert abs(out.loss - loss.item()) <= 1e-6 * abs(loss.item())
    assert close(logits, t_logits.detach().numpy())
    for k in range(layers):  # the carried state handed to the next window
        assert close(out.state[k][0], h_T[k].detach().numpy())
        assert close(out.state[k][1], c_T[k].detach().numpy())
    for name, p in tm.named_parameters():
        assert grads[name].shape == p.grad.shape, name
        assert close(grads[name], p.grad.numpy()), name
    assert set(grads) == set(params)


def test_unmasked_loss_is_mean_over_all_tokens() -> None:
    prob = make_problem(GradcheckSetup(layers=1, seed=5))
    params, x, y, state = prob["params"], prob["x"], prob["y"], prob["state"]
    out, _ = LanguageModel(1, np.float64).forward(params, x, y, None, state)
    loss, *_ = torch_loss(torch_model(params, 1), x, y, np.ones(x.shape), state)
    assert out.count == x.size
    assert abs(out.loss - loss.item()) <= 1e-9
