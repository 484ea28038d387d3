"""The NumPy engine: an LSTM language model with hand-written BPTT and optimizers (no torch)."""

from engine.numpy_engine.engine import NumpyEngine

__all__ = ["NumpyEngine"]
