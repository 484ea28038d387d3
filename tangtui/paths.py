"""The one module that knows tangtui's directories.

Everything a user makes lives under the data home: ``$TANGTUI_HOME`` when set, else platformdirs'
user data dir for ``tangtui``. Derived corpus forms are cached under the user cache dir
(``$TANGTUI_CACHE``, else ``$TANGTUI_HOME/cache`` when ``TANGTUI_HOME`` is set). Both are
looked up lazily, on each call, so tests can point ``TANGTUI_HOME`` at a temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """Root of the run store (database, runs, exports)."""
    env = os.environ.get("TANGTUI_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("tangtui", appauthor=False))


def cache_home() -> Path:
    """Where derived, rebuildable files go (the converted corpus); see the corpus loader."""
    from engine.corpus.loader import default_cache_dir

    return default_cache_dir()
