"""How much of the machine's matmul speed a NumPy-engine training step turns into model FLOPs.

``python -m engine.numpy_engine.efficiency`` times ``tangtui bench``'s NumPy loop (the report's
configuration unless told otherwise) between runs of a plain matmul, and prints::

    GFLOP/s(step)   = tokens/s * step_flops_per_token / 1e9
    GFLOP/s(matmul) = 2 n^3 / best seconds of np.matmul over two (n, n) float32 matrices
    efficiency      = GFLOP/s(step) / GFLOP/s(matmul)

step by step, with a matmul measurement between steps (a shared machine drifts within seconds):
the best step against the best matmul, and the median step against the matmuls beside it.

The FLOPs counted per token are the matmuls of the model, forward and backward
(:func:`step_flops_per_token`); the element-wise work, the embedding's gathers and the first
layer's input projection (computed on the distinct ids of a batch only) are not counted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np


def step_flops_per_token(embed: int, hidden: int, vocab: int, layers: int) -> float:
    """Matmul FLOPs per token of one training step (multiply-add = 2)::

        output layer   6 H V         logits h W^T, dW = ds^T h, dh = ds W
        recurrence     24 H^2        per layer: h W_hh^T, dh_next = dz W_hh, dW_hh = dz^T h
        upper inputs   24 H^2        per layer above the first: x W_ih^T, dW_ih, dx

    (E does not appear: the first layer's input projection runs on distinct ids only.)
    """
    del embed
    H, V = hidden, vocab
    return 6.0 * H * V + 24.0 * H * H * layers + 24.0 * H * H * (layers - 1)


def matmul_gflops(n: int = 2048, repeats: int = 7) -> float:
    """Best-of-``repeats`` GFLOP/s of a float32 (n, n) x (n, n) np.matmul."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def _engine_and_step(embed: int, hidden: int, layers: int, batch: int, seq_len: int,
                     vocab: int) -> Callable[[int], None]:
    """The loop of ``tangtui bench --engine numpy`` (stream windows of random tokens drawn with
    the corpus's character frequencies, Adam, clipping at 5): returns ``step(s)``."""
    from engine.base import create_engine
    from engine.bench import rank_shares
    from engine.config import RunConfig
    from engine.corpus.batching import Batches

    run = RunConfig(engine="numpy")
    run.model.embed_dim, run.model.hidden_dim, run.model.layers = embed, hidden, layers
    run.train.mode, run.train.batch_size, run.train.seq_len = "stream", batch, seq_len
    rng = np.random.default_rng(0)
    stream = 4 + rng.choice(vocab - 4, size=(batch, 8 * seq_len + 1), p=rank_shares(vocab - 4))
    x, y = np.ascontiguousarray(stream[:, :-1]), np.ascontiguousarray(stream[:, 1:])
    engine = create_engine(run, vocab)
    engine.bind("train", Batches("stream", batch, seq_len, x=x, y=y, n_tokens=int(x.size)))

    def step(s: int) -> None:
        engine.train_batch("train", 0, s % 8)
        engine.apply_update(run.optim.lr)
        if (s + 1) % 10 == 0:
            engine.pop_train_loss()

    return step


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.numpy_engine.efficiency",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=8, help="timed steps (after 2 untimed)")
    p.add_argument("--matmul-n", type=int, default=2048, help="size n of the reference matmul")
    for name, default in (("embed", 512), ("hidden", 512), ("layers", 1), ("batch", 128),
                          ("seq-len", 125), ("vocab", 7500)):
        p.add_argument(f"--{name}", type=int, default=default)
    a = p.parse_args(argv)
    flops = step_flops_per_token(a.embed, a.hidden, a.vocab, a.layers)
    tokens = a.batch * a.seq_len
    print(f"E={a.embed} H={a.hidden} layers={a.layers} B={a.batch} T={a.seq_len} "
          f"V={a.vocab}: {flops / 1e6:.2f} MFLOP per token")
    step = _engine_and_step(a.embed, a.hidden, a.layers, a.batch, a.seq_len, a.vocab)
    for s in range(2):
        step(s)
    refs, rates = [matmul_gflops(a.matmul_n, repeats=3)], []
    for s in range(2, 2 + a.steps):
        t0 = time.perf_counter()
        step(s)
        rates.append(tokens / (time.perf_counter() - t0))
        refs.append(matmul_gflops(a.matmul_n, repeats=3))
    shares = [r * flops / 1e9 / ((b + c) / 2)
              for r, b, c in zip(rates, refs, refs[1:], strict=False)]
    best, ref = max(rates), max(refs)
    print("tokens/s per step: " + " ".join(f"{r:,.0f}" for r in rates))
    print("matmul GFLOP/s between steps: " + " ".join(f"{g:.0f}" for g in refs))
    print(f"best step {best:,.0f} tokens/s = {best * flops / 1e9:.1f} GFLOP/s; best matmul "
          f"{ref:.1f} GFLOP/s; best against best {100 * best * flops / 1e9 / ref:.0f} %; "
          f"median step against its neighbouring matmuls {100 * float(np.median(shares)):.0f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
