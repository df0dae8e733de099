"""The marking engine, imported on first use.

``import marker`` takes several seconds (NLTK, sentence models). The app's
sign-in page and the storage layer do not need it, so they reach the engine
through this proxy: ``from markbook.engine import marker`` behaves like the
module, but imports it the first time an attribute is read. Only the engine's
public API (docs/engine-api.md) is used through it.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name

    def _load(self) -> ModuleType:
        return importlib.import_module(self._name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


marker: Any = _LazyModule("marker")
