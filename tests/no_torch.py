"""Test helper: code that makes ``import torch`` fail, as on a machine without it.

Prepend :data:`BLOCK_TORCH` to a script run in a fresh interpreter (``python -c``): a meta-path
finder that refuses torch and its submodules before any other finder can find them.
"""

from __future__ import annotations

import textwrap

BLOCK_TORCH = textwrap.dedent(
    """
    import importlib.abc, sys
    class _NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError("No module named 'torch'", name="torch")
            return None
    sys.meta_path.insert(0, _NoTorch())
    """
)
