"""Kept for imports of ``vde.testing.migrate``; the code is in ``vde.ops.forwards``."""

from vde.ops.forwards import MigrationError, migrate

__all__ = ["MigrationError", "migrate"]
