"""Real engines: a checkpoint from one engine composes the same poems in both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from decode_fakes import ITOS, tiny_checkpoint

from engine.checkpoint import CheckpointError
from engine.decode import Sampling
from engine.generate import PoemRequest, load_poet

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """B=1 steps are tiny: on a busy machine extra torch threads only spin (10x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "step-0")


@pytest.mark.parametrize("req", [
    PoemRequest(form="qijue", sampling=Sampling(temperature=1.0, top_p=0.9)),
    PoemRequest(form="wulv", acrostic="春夏秋冬", rhyme=True,
                sampling=Sampling(temperature=0.8, top_k=10, repetition_penalty=1.3)),
    PoemRequest(prefix="鸟飞归", start="月", max_chars=40, sampling=Sampling(temperature=1.5)),
    PoemRequest(form="wujue", sampling=Sampling(temperature=0)),
])
def test_both_engines_write_the_same_poems(ckpt: Path, req: PoemRequest) -> None:
    by_numpy = load_poet(ckpt, engine="numpy").generate(req, n=4, seed=11, candidates=3)
    by_torch = load_poet(ckpt, engine="torch").generate(req, n=4, seed=11, candidates=3)
    assert [p.text for p in by_numpy] == [p.text for p in by_torch]
    for a, b in zip(by_numpy, by_torch, strict=True):  # candidates agree to float32 precision
        assert a.candidates is not None and b.candidates is not None
        for ra, rb in zip(a.candidates, b.candidates, strict=True):
            assert [c["char"] for c in ra["top"]] == [c["char"] for c in rb["top"]]
            assert ra["prob"] == pytest.approx(rb["prob"], abs=1e-4)


def test_engines_give_the_same_logits(ckpt: Path) -> None:
    a, b = load_poet(ckpt, engine="numpy").engine, load_poet(ckpt, engine="torch").engine
    sa, sb = a.initial_state(1), b.initial_state(1)
    for tok in [1, 5, 9, 30, 44]:
        za, sa = a.step_logits(np.array([tok]), sa)
        zb, sb = b.step_logits(np.array([tok]), sb)
        assert za.dtype == zb.dtype == np.float64 and za.shape == (1, len(ITOS))
        np.testing.assert_allclose(za, zb, atol=1e-5)


def test_float16_checkpoint_and_the_engine_that_trained_it(tmp_path: Path) -> None:
    path = tiny_checkpoint(tmp_path / "fp16", dtype=np.float16, engine="torch")
    poet = load_poet(path)  # no engine given: the one in meta.json
    assert poet.engine.name == "torch" and poet.source == str(path)
    assert load_poet(path, engine="numpy").engine.name == "numpy"
    req = PoemRequest(form="qijue", sampling=Sampling(temperature=0.9))
    assert poet.generate(req, seed=3)[0].text == \
        load_poet(path, engine="numpy").generate(req, seed=3)[0].text


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_weights_that_do_not_fit_are_a_checkpoint_error(tmp_path: Path, engine: str) -> None:
    import json

    path = tiny_checkpoint(tmp_path / "bad")
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    meta["config"]["model"]["hidden_dim"] = 32
    (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CheckpointError, match="shape"):
        load_poet(path, engine=engine)
