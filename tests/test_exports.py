"""The package facades (httpx's ``test_exported_members``): ``__all__`` is sorted, every name in it
resolves, and nothing public the facade defines or imports is left out of it."""

from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("package", ["outreach.convert", "outreach.delivery", "outreach.letters", "outreach.outbox",
                                     "outreach.payment", "outreach.recipients", "outreach.sign",
                                     "outreach.schedule", "outreach.text"])
def test_the_facade_lists_exactly_its_public_names(package: str) -> None:
    module = importlib.import_module(package)

    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        getattr(module, name)  # also the ones loaded on first use
    public = {name for name, value in vars(module).items()
              if not name.startswith("_") and not isinstance(value, (types.ModuleType, type(annotations)))}
    assert public - {"TYPE_CHECKING"} <= set(module.__all__)
