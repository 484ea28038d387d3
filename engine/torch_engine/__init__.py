"""The Torch engine (autograd, CPU/CUDA/MPS); importing this package imports torch."""

from engine.torch_engine.engine import TorchEngine

__all__ = ["TorchEngine"]
