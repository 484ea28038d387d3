"""``tangtui lab``: the report's experiments: list, run, show, stop, resume, rm."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from tangtui.errors import TangtuiError

KINDS = ("optimizers", "init", "gradients", "perplexity")
SCALES = ("tiny", "small", "report")


def register(sub: Any) -> None:
    lab = sub.add_parser("lab", help="the report's experiments, each with a verdict",
                         description="Run the seed report's experiments (optimizers, init, "
                         "gradients, perplexity) as groups of ordinary runs, and see their "
                         "figures, tables and verdicts.")
    cmds = lab.add_subparsers(dest="lab_command", metavar="ACTION")
    cmds.required = True

    p = cmds.add_parser("list", help="the experiments you can run and the ones stored")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = cmds.add_parser("run", help="start an experiment",
                        description="Train an experiment's member runs one after another, then "
                        "print its table and verdicts. Ctrl-C stops it with checkpoints; "
                        "`tangtui lab resume` continues.")
    p.add_argument("kind", choices=KINDS, metavar="EXPERIMENT", help=", ".join(KINDS))
    p.add_argument("--scale", choices=SCALES, default="small",
                   help="tiny (seconds), small (default: minutes on a CPU), report (a GPU)")
    p.add_argument("--seeds", type=int, default=3, metavar="N",
                   help="repeat every member with N seeds (default 3)")
    p.add_argument("--lr-grid", metavar="F,F,...",
                   help="optimizers: factors of each optimizer's centre rate (log-spaced "
                   "by default)")
    p.add_argument("--detach", action="store_true", help="run in the background")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_run)

    p = cmds.add_parser("show", help="an experiment's table, verdicts and figures")
    p.add_argument("experiment", metavar="ID", help="experiment id or unique prefix")
    p.add_argument("--plot", action="store_true", help="draw the figures as text")
    p.add_argument("--x", choices=("step", "tokens", "seconds"), default="step",
                   help="x axis of the loss curves (default step)")
    p.add_argument("--export", metavar="DIR", help="write each figure as CSV and text to DIR")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)

    for name, text in (("stop", "stop an experiment (its member saves a checkpoint)"),
                       ("resume", "continue a stopped or killed experiment"),
                       ("rm", "delete an experiment and its member runs")):
        p = cmds.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("experiment", metavar="ID", help="experiment id or unique prefix")
        if name == "resume":
            p.add_argument("--detach", action="store_true", help="run in the background")
        if name == "rm":
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func={"stop": cmd_stop, "resume": cmd_resume, "rm": cmd_rm}[name])


def _grid(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        factors = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise TangtuiError(f"--lr-grid expects numbers separated by commas, got {text!r}") \
            from None
    if not factors or any(not f > 0 or f == float("inf") for f in factors):
        raise TangtuiError(f"--lr-grid must hold positive factors, got {text!r}")
    return factors


def _check_plan(kind: str, scale: str, seeds: int, options: dict[str, Any]) -> None:
    """Every member config of the experiment is valid (before anything is created)."""
    from engine.config import ConfigError
    from engine.lab import get_experiment
    from engine.lab.scales import base_config

    if seeds < 1:
        raise TangtuiError(f"--seeds must be at least 1, got {seeds}")
    try:
        for m in get_experiment(kind).plan(scale, seeds, [], options):
            base_config(scale, m.overrides)
    except (ValueError, ConfigError) as exc:
        raise TangtuiError(str(exc)) from None


def _members_done(store: Any, exp: Any) -> tuple[int, int]:
    from tangtui.runs.experiments import members_done

    return members_done(store, exp)


def cmd_list(args: argparse.Namespace) -> int:
    from engine.lab import EXPERIMENTS
    from tangtui.cli import print_json
    from tangtui.runs.store import Store

    store = Store()
    stored = store.list_experiments()
    if args.json:
        print_json({"available": [{"name": e.name, "title": e.title, "claims": list(e.claims)}
                                  for e in EXPERIMENTS.values()],
                    "experiments": [{**x.to_json(), "members": list(_members_done(store, x))}
                                    for x in stored]})
        return 0
    for e in EXPERIMENTS.values():
        print(f"{e.name:<11} {e.title}")
    if not stored:
        print("\nno experiments yet (start one with `tangtui lab run init --scale tiny`)")
        return 0
    rows = [("ID", "EXPERIMENT", "SCALE", "SEEDS", "STATUS", "MEMBERS", "CREATED")]
    for x in stored:
        done, total = _members_done(store, x)
        rows.append((x.id, x.kind, x.scale, str(x.seeds), x.display_status, f"{done}/{total}",
                     x.created.replace("T", " ")[:19]))
    print()
    _print_rows(rows)
    return 0


def _print_rows(rows: list[tuple[str, ...]] | list[list[str]]) -> None:
    from rich.cells import cell_len

    widths = [max(cell_len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(c) + " " * (w - cell_len(str(c)))
                        for c, w in zip(r, widths, strict=True)).rstrip())


def cmd_run(args: argparse.Namespace) -> int:
    from tangtui.runs.lab_runner import run_experiment, spawn_experiment
    from tangtui.runs.store import Store

    if args.lr_grid is not None and args.kind != "optimizers":
        raise TangtuiError(f"--lr-grid applies to the optimizers experiment, not {args.kind}")
    options = {"lr_grid": _grid(args.lr_grid)} if args.lr_grid is not None else {}
    _check_plan(args.kind, args.scale, args.seeds, options)
    store = Store()
    exp = store.create_experiment(args.kind, args.scale, args.seeds, options)
    if args.detach:
        pid = spawn_experiment(store, exp.id)
        return _started(store, exp.id, pid, args.json)
    if not args.json:
        print(f"experiment {exp.id}: {args.kind} at scale {args.scale}, {args.seeds} seed(s)")
    run_experiment(exp.id, store=store, log=not args.json)
    return _show(store, exp.id, args.json, plot=False)


def _started(store: Any, exp_id: str, pid: int, as_json: bool) -> int:
    from tangtui.cli import print_json

    exp = store.get_experiment(exp_id)
    if as_json:
        print_json({**exp.to_json(), "pid": pid})
    else:
        print(f"experiment {exp.id} running in the background (pid {pid}); "
              f"`tangtui lab show {exp.id}` for its progress, log in {store.lab_dir(exp.id)}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from tangtui.runs.store import Store

    return _show(Store(), args.experiment, args.json, args.plot, args.x, args.export)


def _show(store: Any, ref: str, as_json: bool, plot: bool, x_axis: str = "step",
          export: str | None = None) -> int:
    from engine.lab import get_experiment
    from tangtui.cli import print_json
    from tangtui.runs.experiments import lab_data

    exp = store.get_experiment(ref)
    data = lab_data(store, exp)
    report = get_experiment(exp.kind).report(data, x_axis)
    done, total = _members_done(store, exp)
    if export:
        _export(report, Path(export))
    if as_json:
        print_json({"experiment": exp.to_json(), "members_done": done, "members": total,
                    "runs": [{"key": m.key, "run_id": m.run_id, "status": m.status}
                             for m in data.members], **report.to_dict()})
        return 0
    print(f"{exp.id}  {exp.kind}  scale {exp.scale}  seeds {exp.seeds}  "
          f"{exp.display_status}  members {done}/{total}"
          + (f"  ({exp.reason})" if exp.reason else ""))
    print()
    _print_rows([report.columns, *[[str(c) for c in r] for r in report.rows]])
    print()
    for v in report.verdicts:
        print(v.line())
    if plot:
        _print_figures(report.figures)
    if export:
        print(f"\nwrote {len(report.figures)} figures to {export}")
    return 0


def _print_figures(figures: list[Any]) -> None:
    """Each figure as text, drawn by the Monitor's chart code; in colour on a terminal."""
    from rich.console import Console

    from tangtui.ui.lab_plots import figure_render, figure_text

    width = min(120, shutil.get_terminal_size((100, 30)).columns)
    console = Console(highlight=False, soft_wrap=True) if sys.stdout.isatty() else None
    for fig in figures:
        print()
        if console is not None:
            console.print(figure_render(fig, width, 22))
        else:
            sys.stdout.write(figure_text(fig, width, 22))


def _export(report: Any, folder: Path) -> None:
    import csv

    from tangtui.ui.lab_plots import figure_csv, figure_text

    try:
        folder.mkdir(parents=True, exist_ok=True)
        for fig in report.figures:
            (folder / f"{fig.name}.csv").write_text(figure_csv(fig), encoding="utf-8")
            (folder / f"{fig.name}.txt").write_text(figure_text(fig), encoding="utf-8")
        with open(folder / "table.csv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([report.columns, *report.rows])
        (folder / "verdicts.txt").write_text("".join(v.line() + "\n" for v in report.verdicts),
                                             encoding="utf-8")
    except OSError as exc:
        raise TangtuiError(f"cannot write to {folder}: {exc.strerror or exc}") from None


def cmd_stop(args: argparse.Namespace) -> int:
    import time

    from tangtui.cli import print_json
    from tangtui.runs.lab_runner import stop_experiment
    from tangtui.runs.lock import lock_holder
    from tangtui.runs.store import Store

    store = Store()
    exp = store.get_experiment(args.experiment)
    pid = stop_experiment(store, exp.id)
    deadline = time.monotonic() + 120
    while lock_holder(store.lab_dir(exp.id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    exp = store.get_experiment(exp.id)
    if args.json:
        print_json(exp.to_json())
    else:
        print(f"experiment {exp.id} {exp.display_status} (pid {pid})")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from tangtui.runs.lab_runner import run_experiment, spawn_experiment
    from tangtui.runs.store import Store

    store = Store()
    exp = store.get_experiment(args.experiment)
    if exp.display_status in ("queued", "running"):
        raise TangtuiError(f"experiment {exp.id} is running; nothing to resume")
    if args.detach:
        return _started(store, exp.id, spawn_experiment(store, exp.id), args.json)
    run_experiment(exp.id, store=store, log=not args.json)
    return _show(store, exp.id, args.json, plot=False)


def cmd_rm(args: argparse.Namespace) -> int:
    from tangtui.cli import print_json
    from tangtui.runs.store import Store

    store = Store()
    exp = store.get_experiment(args.experiment)
    n = len(store.experiment_members(exp.id))
    if not args.yes:
        if not sys.stdin.isatty():
            raise TangtuiError(f"deleting experiment {exp.id} removes its {n} member runs; "
                               "pass --yes to confirm")
        answer = input(f"delete experiment {exp.id} and its {n} member runs (folders and "
                       "checkpoints)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    removed = store.delete_experiment(exp.id)
    if args.json:
        print_json({"removed": exp.id, "member_runs": removed})
    else:
        print(f"removed experiment {exp.id} and {removed} member runs")
    return 0
