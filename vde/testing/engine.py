"""Kept for imports of ``vde.testing.engine``; the code lives in ``vde.ops.engine``."""

from vde.ops.engine import use_engine

__all__ = ["use_engine"]
