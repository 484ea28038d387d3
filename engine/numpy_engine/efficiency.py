"""How much of the machine's matmul speed a NumPy-engine training step turns into model FLOPs.

``python -m engine.numpy_engine.efficiency`` times ``tangtui bench``'s NumPy loop (the report's
configuration unless told otherwise) between runs of a plain matmul, and prints::

    GFLOP/s(step)   = tokens/s * step_flops_per_token / 1e9
    GFLOP/s(matmul) = 2 n^3 / best seconds of np.matmul over two (n, n) float32 matrices
    efficiency      = GFLOP/s(step) / GFLOP/s(matmul), each step run against the mean of
                      the matmul runs just before and after it (a shared machine drifts)

The FLOPs counted per token are the matmuls of the model, forward and backward
(:func:`step_flops_per_token`); the element-wise work, the embedding's gathers and the first
layer's input projection (computed on the distinct ids of a batch only) are not counted.
"""

from __future__ import annotations

import argparse
import time

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


def main(argv: list[str] | None = None) -> int:
    from engine.bench import BenchConfig, run_bench

    p = argparse.ArgumentParser(prog="python -m engine.numpy_engine.efficiency",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="bench runs, each between matmul runs")
    p.add_argument("--steps", type=int, default=6, help="timed steps per bench run")
    for name, default in (("embed", 512), ("hidden", 512), ("layers", 1), ("batch", 128),
                          ("seq-len", 125), ("vocab", 7500)):
        p.add_argument(f"--{name}", type=int, default=default)
    args = p.parse_args(argv)
    cfg = BenchConfig(engine="numpy", vs="none", embed=args.embed, hidden=args.hidden,
                      layers=args.layers, batch=args.batch, seq_len=args.seq_len,
                      vocab=args.vocab, steps=args.steps, rounds=min(args.steps, 3))
    flops = step_flops_per_token(cfg.embed, cfg.hidden, cfg.vocab, cfg.layers)
    print(f"E={cfg.embed} H={cfg.hidden} layers={cfg.layers} B={cfg.batch} T={cfg.seq_len} "
          f"V={cfg.vocab}: {flops / 1e6:.2f} MFLOP per token")
    refs = [matmul_gflops()]
    shares = []
    for k in range(args.runs):
        tps = run_bench(cfg)["results"][0]["tokens_per_s"]
        refs.append(matmul_gflops())
        ref = (refs[-2] + refs[-1]) / 2
        gflops = tps * flops / 1e9
        shares.append(gflops / ref)
        print(f"run {k + 1}: {tps:,.0f} tokens/s = {gflops:.1f} GFLOP/s; matmul "
              f"{refs[-2]:.1f} / {refs[-1]:.1f} GFLOP/s; efficiency {100 * shares[-1]:.0f} %")
    print(f"median efficiency {100 * float(np.median(shares)):.0f} % "
          f"(matmul {min(refs):.1f}-{max(refs):.1f} GFLOP/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
