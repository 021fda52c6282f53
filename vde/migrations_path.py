"""Where each app's migrations are on disk, in a checkout and in an installed wheel.

In the repository they live in the top-level ``piccolo_migrations/<app>/``; the
wheel carries them inside the package as ``vde/piccolo_migrations/<app>/``
because Piccolo imports migrations from a real folder on disk.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def migrations_folder(app_name: str) -> str:
    shipped = _PACKAGE / "piccolo_migrations" / app_name
    if shipped.is_dir():
        return str(shipped)
    return str(_PACKAGE.parent / "piccolo_migrations" / app_name)
