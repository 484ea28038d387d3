"""Traditional/simplified conversion with OpenCC, instances created once and lazily."""

from __future__ import annotations

from functools import lru_cache

SCRIPTS = ("simplified", "traditional")


@lru_cache(maxsize=4)
def _converter(config: str):  # noqa: ANN202 - opencc has no type hints
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text) if text else text


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text) if text else text


def to_script(text: str, script: str) -> str:
    """Convert ``text`` into ``script`` ("simplified" or "traditional")."""
    if script == "simplified":
        return to_simplified(text)
    if script == "traditional":
        return to_traditional(text)
    raise ValueError(f"unknown script {script!r} (choose simplified or traditional)")
