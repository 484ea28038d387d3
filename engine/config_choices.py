"""The allowed values of the config's choice fields (shared by the config and its validation)."""

from __future__ import annotations

ENGINES = ("numpy", "torch")
SCRIPTS = ("simplified", "traditional")
FORMS = ("wujue", "qijue", "wulv", "qilv", "other")
INITS = ("zeros", "uniform", "standard", "xavier", "he", "report")
OPTIMIZERS = ("sgd", "momentum", "nag", "adagrad", "adadelta", "rmsprop", "adam")
MODES = ("stream", "poem")
SCHEDULES = ("constant", "cosine", "step")
PRECISIONS = ("fp32", "fp64", "tf32", "bf16")
SOFTMAXES = ("full", "adaptive")
STREAM_EVALS = ("final", "every", "off")  # train.stream_eval: when the stream figure is scored
BACKENDS = ("auto", "gloo", "nccl")  # train.backend of a run on several processes
