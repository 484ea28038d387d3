"""``tangtui rebuild``: rebuild the run store from the run folders (see tangtui.runs.rebuild)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("rebuild", help="rebuild the run store from the run folders",
                       description="Add every run folder the run store does not list (after "
                       "tangtui.db was emptied, replaced or damaged): its name, config, status, "
                       "latest checkpoint and the evaluations in its train.log. A damaged "
                       "tangtui.db is moved aside, never deleted. Train-loss rows, samples and "
                       "saved poems are not in the folders and cannot be restored.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_rebuild)


def cmd_rebuild(args: argparse.Namespace) -> int:
    from tangtui.cli import print_json
    from tangtui.paths import data_home
    from tangtui.runs.rebuild import rebuild

    done = rebuild(data_home())
    if args.json:
        print_json({"moved_aside": str(done.moved_aside) if done.moved_aside else None,
                    "restored": [{"id": i, "name": n, "status": s, "evals": e, "metrics": m}
                                 for i, n, s, e, m in done.restored],
                    "skipped": [{"folder": f, "reason": r} for f, r in done.skipped]})
        return 0
    if done.moved_aside:
        print(f"the damaged run store was moved to {done.moved_aside}")
    for run_id, name, status, evals, metrics in done.restored:
        label = run_id if name == run_id else f"{run_id} ({name})"
        print(f"restored {label}: {status}, {metrics:,} train rows, {evals:,} evaluation"
              f"{'s' if evals != 1 else ''}")
    for folder, why in done.skipped:
        print(f"skipped {folder}: {why}")
    if not done.restored and not done.skipped:
        print("the run store already lists every run folder")
    return 0
