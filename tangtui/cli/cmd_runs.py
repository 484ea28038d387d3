"""``tangtui runs``, ``metrics``, ``stop``, ``rm`` and ``watch``: look after stored runs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from tangtui.cli.arg_types import positive_int
from tangtui.errors import TangtuiError


def register(sub: Any) -> None:
    p = sub.add_parser("runs", help="list training runs",
                       description="List the runs in the store, newest first.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("metrics", help="print a run's loss and perplexity history",
                       description="The history of a run: one row per logged step, with the "
                       "held-out loss and perplexity where it was evaluated.")
    p.add_argument("run", metavar="RUN", help="run id, name or unique id prefix")
    p.add_argument("--evals", action="store_true", help="only the evaluated steps")
    p.add_argument("--tail", type=positive_int, default=0, metavar="N",
                   help="only the last N rows (N at least 1)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("stop", help="stop a training run (it saves a checkpoint first)",
                       description="Send SIGTERM to a run's trainer: it writes a checkpoint and "
                       "ends with status stopped. Waits for that unless --no-wait.")
    p.add_argument("run", metavar="RUN", help="run id, name or unique id prefix")
    p.add_argument("--no-wait", action="store_true", help="return at once")
    p.add_argument("--timeout", type=float, default=120.0, metavar="S",
                   help="seconds to wait for the checkpoint (default 120)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_stop)

    p = sub.add_parser("rm", help="delete runs with their checkpoints",
                       description="Delete runs: their history and their directory. Refused while "
                       "a trainer holds a run's lock. Poems saved from them are kept.")
    p.add_argument("runs", metavar="RUN", nargs="+", help="run id, name or unique id prefix")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_rm)

    p = sub.add_parser("watch", help="follow a run in plain text",
                       description="Print a run's new log rows, evaluations and samples as they "
                       "arrive, until it ends (or Ctrl-C). For scripts and simple terminals.")
    p.add_argument("run", metavar="RUN", help="run id, name or unique id prefix")
    p.add_argument("--interval", type=float, default=1.0, metavar="S",
                   help="seconds between polls (default 1)")
    p.add_argument("--no-samples", action="store_true", help="leave the samples out")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_watch)


def print_table(rows: list[tuple[str, ...]]) -> None:
    """Left-aligned columns by display width: a CJK character takes two terminal cells."""
    from rich.cells import cell_len

    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c + " " * (w - cell_len(c))
                        for c, w in zip(row, widths, strict=True)).rstrip())


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def cmd_runs(args: argparse.Namespace) -> int:
    from tangtui.cli import print_json
    from tangtui.runs.store import Store

    store = Store()
    runs = store.list_runs()
    hint = store.orphans_hint()
    if hint:
        print(f"tangtui: note: {hint}", file=sys.stderr)
    if args.json:
        print_json([r.to_json() for r in runs])
        return 0
    if not runs:
        if not hint:
            print("no runs yet (start one with `tangtui train --preset tiny`)")
        return 0
    rows = [("ID", "NAME", "ENGINE", "STATUS", "PID", "STEP", "PPL/POEM", "CREATED")]
    for r in runs:
        step = f"{r.step:,}" + (f"/{r.total_steps:,}" if r.total_steps else "")
        pid = str(r.pid) if r.pid and r.liveness() == "alive" else "-"
        rows.append((r.id, r.name, r.engine, r.display_status, pid, step,
                     _fmt(r.best_test_ppl, ".2f"), r.created.replace("T", " ")[:19]))
    print_table(rows)
    return 0




def _num(x: float | None) -> str:
    """A number as json.dumps writes it (repr; NaN and Infinity as json does), or null."""
    if x is None:
        return "null"
    return repr(x) if x == x and x not in (_INF, -_INF) else json.dumps(x)


_INF = float("inf")


def _json_row(r: tuple[Any, ...]) -> str:
    """One history row as a JSON object (the keys of ``tangtui metrics --json``; epoch from 1)."""
    step, epoch, train, test, ppl, stream, lr, tps = r
    return (f'  {{"step": {step}, "epoch": {epoch + 1}, "train_loss": {_num(train)}, '
            f'"test_loss": {_num(test)}, "test_ppl": {_num(ppl)}, "stream_ppl": {_num(stream)}, '
            f'"lr": {_num(lr)}, "tokens_per_s": {_num(tps)}}}')


def cmd_metrics(args: argparse.Namespace) -> int:
    from tangtui.runs.store import Store

    store = Store()
    run = store.get_run(args.run)
    rows = store.history_rows(run.id, evals_only=args.evals, tail=args.tail or None)
    out = sys.stdout
    if args.json:  # one row per line, written directly (json.dumps with indent: 10x slower)
        body = ",\n".join(_json_row(r) for r in rows)
        out.write("[\n" + body + ("\n" if rows else "") + "]\n")
        return 0
    lines = [f"{'STEP':>8} {'EPOCH':>5} {'TRAIN LOSS':>10} {'TEST LOSS':>9} {'PPL/POEM':>9} "
             f"{'STREAM PPL':>10} {'LR':>9}"]
    for step, epoch, train, test, ppl, stream, lr, _ in rows:
        lines.append(f"{step:>8} {epoch + 1:>5} {_fmt(train, '.4f'):>10} "
                     f"{_fmt(test, '.4f'):>9} {_fmt(ppl, '.2f'):>9} {_fmt(stream, '.2f'):>10} "
                     f"{_fmt(lr, '.3g'):>9}")
    if rows:
        lines.append("PPL/POEM: each held-out poem scored alone from a zero state (the "
                     "headline); STREAM PPL: the poems joined, state carried")
    out.write("\n".join(lines) + "\n")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from tangtui.cli import print_json
    from tangtui.runs.lock import lock_holder
    from tangtui.runs.runner import request_stop
    from tangtui.runs.store import Store

    store = Store()
    run = store.get_run(args.run)
    run_dir = store.run_dir(run.id)
    pid = request_stop(store, run.id)
    if not args.no_wait:
        deadline = time.monotonic() + args.timeout
        while lock_holder(run_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
        if lock_holder(run_dir):
            raise TangtuiError(f"run {run.name} did not stop within {args.timeout:g} s "
                               f"(pid {pid} is still running)")
    run = store.get_run(run.id)
    if args.json:
        print_json(run.to_json())
    elif args.no_wait:
        print(f"asked run {run.name} to stop (pid {pid})")
    else:
        ck = f", checkpoint at step {run.checkpoint_step:,}" if run.checkpoint_step else ""
        print(f"run {run.name} {run.display_status} at step {run.step:,}{ck}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    from tangtui.cli import print_json
    from tangtui.runs.lock import is_locked, lock_holder, training_error
    from tangtui.runs.store import Store

    store = Store()
    runs = [store.get_run(ref) for ref in args.runs]  # all must exist before any is removed
    for run in runs:  # refuse before removing any; delete_run holds the lock to be sure
        if is_locked(store.run_dir(run.id)):
            raise training_error(run.name, lock_holder(store.run_dir(run.id)))
    for run in runs:
        store.delete_run(run.id)
    if args.json:
        print_json({"removed": [r.id for r in runs]})
    else:
        for run in runs:
            print(f"removed {run.id}" + (f" ({run.name})" if run.name != run.id else ""))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from tangtui.cli.watch import watch
    from tangtui.runs.store import Store

    store = Store()
    return watch(store, store.get_run(args.run).id, interval=max(0.05, args.interval),
                 as_json=args.json, samples=not args.no_samples)
