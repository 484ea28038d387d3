"""Fine-tune a stream-trained checkpoint in poem mode: every poem alone, from a zero state.

A model trained on the joined stream learns to start each poem with the previous one (often by
the same author) as context, which generation never has: its per-poem held-out perplexity lies
well above its stream figure. A short pass in poem mode at a low learning rate teaches it to
start from nothing. Usage (the starter model's second stage; see build_starter.py)::

    python data/finetune_poems.py CHECKPOINT_DIR OUT_DIR --steps 400

``OUT_DIR`` receives ordinary checkpoints (``checkpoints/best`` is the lowest per-poem
held-out perplexity) and ``finetune.json`` with the evaluations.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.base import create_engine
from engine.checkpoint import load_checkpoint
from engine.config import RunConfig
from engine.corpus.dataset import build_dataset
from engine.corpus.vocab import Vocab
from engine.trainer import Hooks, Trainer


class Log(Hooks):
    def __init__(self) -> None:
        self.evals: list[dict] = []

    def on_log(self, p) -> None:  # noqa: ANN001
        print(f"step {p.step}/{p.total_steps} loss {p.train_loss:.4f} "
              f"{p.tokens_per_s or 0:,.0f} tok/s", flush=True)

    def on_eval(self, p, ev) -> None:  # noqa: ANN001
        row = {"step": p.step, "ppl": ev.ppl, "stream_ppl": ev.stream_ppl}
        self.evals.append(row)
        print(json.dumps(row), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=128, help="poems per update")
    ap.add_argument("--engine", default="torch")
    ap.add_argument("--eval-every", type=int, default=100)
    args = ap.parse_args(argv)
    ckpt = load_checkpoint(args.checkpoint, optimizer=False)
    cfg = RunConfig.from_dict(ckpt.meta["config"])
    cfg.engine = args.engine
    t = cfg.train
    t.mode, t.batch_size, t.seq_len, t.steps = "poem", args.batch, 256, args.steps
    t.schedule, t.warmup, t.min_lr = "cosine", 20, args.lr / 10
    t.eval_every, t.checkpoint_every, t.sample_every, t.log_every = \
        args.eval_every, args.eval_every, 0, 10
    cfg.optim.lr = args.lr
    cfg.validate()
    data = build_dataset(cfg, vocab=Vocab(list(ckpt.meta["vocab"])))
    engine = create_engine(cfg, len(data.vocab), weights=ckpt.tensors)
    hooks = Log()
    result = Trainer(cfg, data, engine, args.out, hooks).run()
    summary = {"from": str(args.checkpoint), "from_step": ckpt.meta.get("step"),
               "config": cfg.to_dict(), "evals": hooks.evals, "status": result.status,
               "best_ppl": result.best_test_ppl}
    (args.out / "finetune.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: summary[k] for k in ("status", "best_ppl", "evals")}))
    return 0 if result.status == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())
