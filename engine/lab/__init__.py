"""The lab: the seed report's claims as experiments of ordinary runs, each with a verdict.

=============  ======================================================================
optimizers     GD, SGD, Momentum, NAG, AdaGrad, AdaDelta, RMSprop, Adam: a learning-rate
               grid each, the best rerun over seeds (:mod:`engine.lab.exp_optimizers`)
init           six init schemes: symmetry, effective rank, saturation (:mod:`.exp_init`)
gradients      BPTT vs finite differences, gradient flow per scheme (:mod:`.exp_gradients`)
perplexity     one model's held-out perplexity counted three ways (:mod:`.exp_perplexity`)
=============  ======================================================================

Each experiment is a description (:class:`engine.lab.spec.Experiment`); running it (a process
training the members one after another) lives in :mod:`tangtui.runs.lab_runner`.
"""

from __future__ import annotations

from engine.lab.exp_gradients import GradientsExperiment
from engine.lab.exp_init import InitExperiment
from engine.lab.exp_optimizers import OptimizersExperiment
from engine.lab.exp_perplexity import PerplexityExperiment
from engine.lab.scales import SCALES
from engine.lab.spec import Experiment, LabData, Member, MemberData, Report, Verdict

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (OptimizersExperiment(), InitExperiment(), GradientsExperiment(),
                        PerplexityExperiment())
}

__all__ = ["EXPERIMENTS", "SCALES", "Experiment", "LabData", "Member", "MemberData", "Report",
           "Verdict", "get_experiment"]


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name`` (ValueError naming the choices otherwise)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r} (choose {', '.join(EXPERIMENTS)})")
    return EXPERIMENTS[name]
