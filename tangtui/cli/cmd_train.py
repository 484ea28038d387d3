"""``tangtui train`` and ``tangtui resume``: start a run (foreground or detached), continue one."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tangtui.errors import TangtuiError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "train", help="start a training run",
        description="Start a training run. Config layers, later wins: defaults, --preset, "
        "--config, --engine, --set. Without --detach it shows a progress bar and Ctrl-C stops "
        "it cleanly with a checkpoint; with --detach it runs in its own session (it survives a "
        "closed terminal or SSH connection) and prints the run id.")
    p.add_argument("--engine", choices=("numpy", "torch"), help="training engine")
    p.add_argument("--preset", metavar="NAME",
                   help="named recipe: tiny, cpu, gpu, report (see engine/presets.py)")
    p.add_argument("--config", metavar="FILE", help="TOML or JSON file with config sections")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", nargs="+", action="extend",
                   default=[], help="override a field, e.g. --set model.hidden_dim=256 "
                   "optim.lr=2e-3 corpus.forms=wujue,qijue")
    p.add_argument("--name", help="a unique name for the run (letters, digits, . _ -)")
    p.add_argument("--detach", action="store_true", help="run in the background, print the id")
    p.add_argument("--nproc", type=int, metavar="N",
                   help="torch engine: train with N processes on this machine (torchrun + DDP); "
                   "train.batch_size is the global batch, shared out among them")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and print the resolved config without starting a run")
    p.add_argument("--json", action="store_true", help="print the run as JSON when done")
    p.set_defaults(func=cmd_train)

    r = sub.add_parser(
        "resume", help="continue a stopped, failed or killed run",
        description="Continue a run from its latest checkpoint: weights, optimizer and RNG "
        "state, step and position in the epoch. Rows recorded after that checkpoint are "
        "trained again and replaced, so the history has no gaps and no duplicates.")
    r.add_argument("run", metavar="RUN", help="run id, name or unique id prefix")
    r.add_argument("--detach", action="store_true", help="run in the background")
    r.add_argument("--nproc", type=int, metavar="N",
                   help="continue with N processes (any N: the global batch stays the same)")
    r.add_argument("--json", action="store_true", help="print the run as JSON when done")
    r.set_defaults(func=cmd_resume)


def cmd_train(args: argparse.Namespace) -> int:
    from engine.config import load_config_file
    from engine.presets import build_config
    from tangtui.cli.train_processes import is_follower, nproc_override, run_follower, warn

    if is_follower():  # rank > 0 of a hand-started torchrun: rank 0 sends it everything
        return run_follower()
    file_data = load_config_file(args.config) if args.config else None
    overrides = [*args.overrides, *nproc_override(args.nproc)]
    config = build_config(args.preset, file_data, args.engine, overrides)
    from tangtui.runs.dist_launch import torchrun_world
    from tangtui.runs.launch_check import check_launch, discard_unstarted, probe, taken_names
    from tangtui.runs.store import Store

    store = Store() if args.name or not args.dry_run else None  # a dry run opens it for names
    runs = store.list_runs() if store and args.name else []
    taken = taken_names(runs)
    # the one check of the form, --dry-run and the launch; under torchrun the machines are not
    # this one: the trainer finds out there
    check_launch(config, args.name, taken, None if torchrun_world() else probe())
    if args.dry_run:
        from tangtui.cli import print_json

        print_json(config.to_dict())
        return 0
    warn(config)
    assert store is not None
    for old in runs:  # a run that failed before its first step gives its name back
        if old.name == args.name and old.name not in taken:
            discard_unstarted(store, old.id)
    run = store.create_run(config.to_dict(), name=args.name, engine=config.engine)
    try:
        return _start(store, run.id, resume=False, detach=args.detach, as_json=args.json)
    except Exception:
        if discard_unstarted(store, run.id):  # nothing trained: the name is free again
            print(f"tangtui: run {run.name} removed: it failed before its first step",
                  file=sys.stderr)
        raise


def cmd_resume(args: argparse.Namespace) -> int:
    from tangtui.cli.train_processes import is_follower, run_follower, set_nproc
    from tangtui.runs.lock import is_locked, lock_holder
    from tangtui.runs.store import Store

    if is_follower():
        return run_follower()

    store = Store()
    run = store.get_run(args.run)
    if is_locked(store.run_dir(run.id)):
        holder = lock_holder(store.run_dir(run.id))
        raise TangtuiError(f"run {run.name} is still training"
                           + (f" (pid {holder})" if holder else ""))
    if run.status == "finished":
        raise TangtuiError(f"run {run.name} already finished ({run.step:,} steps); start a new "
                           "run to train longer")
    set_nproc(store, run, args.nproc)
    return _start(store, run.id, resume=True, detach=args.detach, as_json=args.json)


def _start(store: Any, run_id: str, *, resume: bool, detach: bool, as_json: bool) -> int:
    from tangtui.cli import print_json
    from tangtui.cli.train_processes import launched_here, start_processes

    if launched_here(store, run_id):  # N processes: torchrun, followed through the store
        return start_processes(store, run_id, resume=resume, detach=detach, as_json=as_json)
    if detach:
        from tangtui.runs.runner import LOG_NAME, spawn

        pid = spawn(store, run_id, resume=resume)
        run = store.get_run(run_id)
        if as_json:
            print_json({**run.to_json(), "pid": pid,
                        "log": str(store.run_dir(run_id) / LOG_NAME)})
        else:
            print(run.id)
        return 0

    from tangtui.cli.progress import ProgressBar
    from tangtui.cli.train_processes import report_end
    from tangtui.runs.runner import execute

    bar = ProgressBar()
    try:
        result = execute(run_id, resume=resume, store=store, hooks=[bar], log=False)
    finally:
        bar.close()
    return report_end(store, run_id, result, as_json)

