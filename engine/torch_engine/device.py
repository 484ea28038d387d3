"""Where and in what precision the Torch engine runs: device choice, TF32 flags, autocast.

``train.device``: ``auto`` picks CUDA, then Apple's MPS, then the CPU; ``cpu``, ``cuda``,
``cuda:N`` and ``mps`` force one (an unavailable device is a :class:`ConfigError`).

``train.precision``:

=======  ==============================================================================
fp32     float32 weights and math; TF32 is switched *off* for matmuls and cuDNN RNNs
fp64     float64 weights and math (CPU and CUDA; MPS has no float64)
tf32     float32 weights, TF32 tensor-core math for matmuls and cuDNN RNNs (CUDA only)
bf16     float32 weights, forward under ``torch.autocast(dtype=torch.bfloat16)`` (CUDA only)
=======  ==============================================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from engine.config import PRECISIONS, ConfigError


@dataclass(frozen=True)
class Placement:
    device: torch.device
    precision: str  # fp32 | fp64 | tf32 | bf16
    dtype: torch.dtype  # parameter dtype: float64 for fp64, float32 otherwise

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The context the forward pass runs in (bf16 autocast, or nothing)."""
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def synchronize(self) -> None:
        """Wait for queued device work (for timings); a no-op on the CPU."""
        _SYNC.get(self.device.type, lambda: None)()


_SYNC: dict[str, Callable[[], None]] = {
    "cuda": lambda: torch.cuda.synchronize(),
    "mps": lambda: torch.mps.synchronize(),
}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda, mps or cpu; anything else is checked for availability."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(f"train.device: unknown device {name!r} "
                          "(choose auto, cpu, cuda, cuda:N or mps)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"train.device={name}: CUDA is not available on this machine "
                              f"(torch {torch.__version__}); use cpu or auto")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ConfigError(f"train.device={name}: only {count} CUDA device(s) here")
    elif device.type == "mps":
        if not _mps_available():
            raise ConfigError(f"train.device={name}: MPS is not available on this machine")
    elif device.type != "cpu":
        raise ConfigError(f"train.device: unsupported device {name!r} "
                          "(choose auto, cpu, cuda, cuda:N or mps)")
    return device


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_placement(device_name: str, precision: str) -> Placement:
    """Check ``precision`` against the device and set the process-wide TF32 flags for it."""
    if precision not in PRECISIONS:
        raise ConfigError(f"train.precision: unknown {precision!r} "
                          f"(choose {', '.join(PRECISIONS)})")
    device = resolve_device(device_name)
    if precision in ("tf32", "bf16") and device.type != "cuda":
        raise ConfigError(f"train.precision={precision} needs a CUDA device, not "
                          f"{device.type}; use fp32 (or fp64) there")
    if precision == "fp64" and device.type == "mps":
        raise ConfigError("train.precision=fp64: MPS has no float64; use fp32 or the cpu")
    if device.type == "cuda":
        set_tf32(precision == "tf32")
    dtype = torch.float64 if precision == "fp64" else torch.float32
    return Placement(device, precision, dtype)


def set_tf32(enabled: bool) -> None:
    """Allow (or forbid) TF32 for float32 matmuls and cuDNN RNNs, through torch's newer API
    (``fp32_precision``) where it exists; mixing it with ``allow_tf32`` is an error there."""
    mode = "tf32" if enabled else "ieee"
    matmul, rnn = torch.backends.cuda.matmul, getattr(torch.backends.cudnn, "rnn", None)
    if hasattr(matmul, "fp32_precision") and rnn is not None:
        matmul.fp32_precision = mode
        rnn.fp32_precision = mode
    else:  # torch < 2.9
        matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled
