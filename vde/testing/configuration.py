"""The plugin's Piccolo configuration: the project's own, else vde's stand-in.

Piccolo reads its engine and apps from the module ``PICCOLO_CONF`` names, by
default ``piccolo_conf``. A project that only tests code on vde's tables need
not write one: when there is no ``piccolo_conf`` and ``PICCOLO_CONF`` is not
set, the plugin registers :mod:`vde.testing.piccolo_conf` as ``piccolo_conf``
for the test session (in this process only: ``sys.modules``, not the
environment, so a subprocess a test starts still finds its own). A
``PICCOLO_CONF`` naming a module that is missing stays Piccolo's error: it
is a mistake to see, not to paper over. The project's module is only looked
for here, not run.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import pytest
from piccolo.conf.apps import DEFAULT_MODULE_NAME, ENVIRONMENT_VARIABLE

STAND_IN = "vde.testing.piccolo_conf"


def findable(name: str) -> bool:
    """Whether module ``name`` can be imported (found without running it)."""
    return name in sys.modules or importlib.util.find_spec(name) is not None


def pytest_configure(config: pytest.Config) -> None:
    """Stand vde's configuration in for a missing one until the session ends."""
    name = DEFAULT_MODULE_NAME
    if os.environ.get(ENVIRONMENT_VARIABLE) or findable(name):
        return
    sys.modules[name] = importlib.import_module(STAND_IN)

    def withdraw() -> None:
        sys.modules.pop(name, None)

    config.add_cleanup(withdraw)
