"""``tangtui bench``: training tokens/s of an engine against a second loop, in one run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tangtui.cli.arg_types import positive_int
from tangtui.errors import TangtuiError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="training throughput (tokens/s) of an engine against a reference loop",
        description="Time the engine's own training loop (bind, train_batch, apply_update, "
        "loss read back every few steps) on random tokens, next to a second loop timed in the "
        "same run: the bare PyTorch loop for --engine torch, the torch engine for --engine numpy. "
        "Defaults are the report's configuration (E=H=512, 1 layer, B=128, T=125, V=7500, fp32, "
        "Adam).",
    )
    p.add_argument("--engine", choices=["numpy", "torch"], default="numpy",
                   help="the loop under test (default numpy)")
    p.add_argument("--vs", choices=["torch", "bare", "numpy", "full", "none"], default=None,
                   help="the loop to compare with: torch (engine), bare (plain PyTorch loop), "
                   "numpy, full (the same engine with the full softmax; needs --softmax adaptive) "
                   "or none (default: bare for torch, torch for numpy)")
    p.add_argument("--device", default="auto",
                   help="torch device: auto, cpu, cuda, cuda:N, mps (auto is cpu next to numpy)")
    p.add_argument("--precision", choices=["fp32", "fp64", "tf32", "bf16"], default="fp32",
                   help="fp32 (default), fp64, tf32 or bf16 (the last two on CUDA)")
    p.add_argument("--embed", type=positive_int, default=512, help="embedding width E (512)")
    p.add_argument("--hidden", type=positive_int, default=512, help="hidden width H (512)")
    p.add_argument("--layers", type=positive_int, default=1, help="LSTM layers (1)")
    p.add_argument("--batch", type=positive_int, default=128, help="batch size B (128)")
    p.add_argument("--seq-len", type=positive_int, default=125, help="window length T (125)")
    p.add_argument("--vocab", type=positive_int, default=7500, help="vocabulary size V (7500)")
    p.add_argument("--softmax", choices=["full", "adaptive"], default="full",
                   help="output layer (full); with adaptive, --vs full races the same engine "
                   "with the full softmax")
    p.add_argument("--optim", default="adam", help="engine optimizer (adam; the bare loop: Adam)")
    p.add_argument("--compile", action="store_true", help="torch.compile the torch engine")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="timed steps per loop (10 on the CPU, 100 on a GPU)")
    p.add_argument("--warmup", type=positive_int, default=None,
                   help="untimed steps per loop first (2 on the CPU, 10 on a GPU)")
    p.add_argument("--rounds", type=positive_int, default=5, help="interleaved timing rounds (5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from engine.bench import BenchConfig, run_bench
    from engine.config import OPTIMIZERS

    if args.optim not in OPTIMIZERS:
        raise TangtuiError(f"--optim: unknown optimizer {args.optim!r} "
                           f"(choose {', '.join(OPTIMIZERS)})")
    if args.vocab < 5:
        raise TangtuiError("--vocab must be at least 5 (4 ids are special tokens)")
    cfg = BenchConfig(
        engine=args.engine, vs=args.vs or "auto", device=args.device, precision=args.precision,
        embed=args.embed, hidden=args.hidden, layers=args.layers, batch=args.batch,
        seq_len=args.seq_len, vocab=args.vocab, softmax=args.softmax, optim=args.optim,
        compile=args.compile,
        steps=args.steps or 0, warmup=args.warmup or 0, rounds=args.rounds,
    )
    progress = None if args.json else (lambda msg: print(f"  {msg}", file=sys.stderr))
    report = run_bench(cfg, progress)
    if args.json:
        from tangtui.cli import print_json

        print_json(report)
    else:
        print(_format(report))
    return 0


def _format(report: dict[str, Any]) -> str:
    c, m = report["config"], report["machine"]
    where = report["device"] + (f" ({m['gpu']})" if m.get("gpu") else "")
    torch_v = f", torch {m['torch']} ({m['torch_threads']} threads)" if "torch" in m else ""
    lines = [
        f"bench  E={c['embed']} H={c['hidden']} layers={c['layers']} B={c['batch']} "
        f"T={c['seq_len']} V={c['vocab']} {report['precision']} {c['optim']} "
        f"{c['softmax']} softmax  "
        f"{c['steps']} steps after {c['warmup']}",
        f"on {where}, {m['cpu_count']} CPUs{torch_v}",
        f"{'loop':<8}{'tokens/s':>12}{'ms/step':>11}   per round",
    ]
    for r in report["results"]:
        rounds = " ".join(f"{v:,.0f}" for v in r["rounds_tokens_per_s"])
        lines.append(f"{r['engine']:<8}{r['tokens_per_s']:>12,.0f}{r['ms_per_step']:>11,.1f}"
                     f"   {rounds}")
    if report["ratio"] is not None:
        lines.append(f"ratio {report['ratio_of']} = {report['ratio']:.3f}")
    return "\n".join(lines)
