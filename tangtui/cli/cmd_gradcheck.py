"""``tangtui gradcheck``: the NumPy engine's hand-written gradients against finite differences."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gradcheck",
        help="check the hand-written gradients against central finite differences (float64)",
        description="Compare every parameter's analytic gradient with central finite differences "
        "on a small float64 model (2 layers, non-zero biases, several steps, a mask with holes, "
        "a carried state, dropout), with the full softmax and with the adaptive softmax (a head "
        "and two tail clusters). Exits 1 when any relative error exceeds 1e-6.",
    )
    p.add_argument("--engine", choices=["numpy"], default="numpy",
                   help="engine whose backward pass is checked (numpy; torch uses autograd)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch (0)")
    p.add_argument("--softmax", choices=["full", "adaptive", "both"], default="both",
                   help="output layer(s) to check (both)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_gradcheck)


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from engine.gradcheck import GradcheckSetup, gradcheck
    from tangtui.cli import print_json

    kinds = ["full", "adaptive"] if args.softmax == "both" else [args.softmax]
    parts = {k: gradcheck(GradcheckSetup(seed=args.seed, softmax=k, vocab=9)) for k in kinds}
    params = {f"{name}" if k == "full" else f"{name} (adaptive)": err
              for k, part in parts.items() for name, err in part["params"].items()}
    report = {"engine": args.engine, "ok": all(p["ok"] for p in parts.values()),
              "max_rel_error": max(p["max_rel_error"] for p in parts.values()),
              "tolerance": parts[kinds[0]]["tolerance"], "params": params,
              "setup": parts[kinds[0]]["setup"], "softmax": kinds}
    if args.json:
        print_json(report)
    else:
        s = report["setup"]
        print(f"gradcheck ({args.engine}, float64): V={s['vocab']} E={s['embed']} H={s['hidden']} "
              f"layers={s['layers']} B={s['batch']} T={s['steps']} eps={s['eps']:g}, "
              f"softmax {' and '.join(kinds)}")
        width = max(len(k) for k in params)
        for name, err in params.items():
            flag = "ok" if err <= report["tolerance"] else "FAIL"
            print(f"  {name:<{width}}  {err:.2e}  {flag}")
        verdict = "ok" if report["ok"] else "FAIL"
        print(f"max relative error {report['max_rel_error']:.2e} "
              f"(tolerance {report['tolerance']:.0e}): {verdict}")
    return 0 if report["ok"] else 1
