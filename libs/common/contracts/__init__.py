"""Event contracts: one pydantic model per (ce_type, version), the only shape an event may have on a topic.

Contracts are separate from ORM tables and API schemas; a service validates every payload it
publishes and every payload it consumes against the model registered here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Base of every event payload: strict about unknown fields, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)


C = TypeVar("C", bound=type[Contract])

_REGISTRY: dict[tuple[str, int], type[Contract]] = {}
_TYPES: dict[type[Contract], tuple[str, int]] = {}


class UnknownEventTypeError(LookupError):
    pass


def contract(ce_type: str, version: int = 1) -> Callable[[C], C]:
    """Register a model as the payload of `ce_type` at `version`."""

    def register(model: C) -> C:
        key = (ce_type, version)
        existing = _REGISTRY.get(key)
        if existing is not None and existing is not model:
            raise ValueError(f"{ce_type} v{version} is already registered to {existing.__name__}")
        _REGISTRY[key] = model
        _TYPES[model] = key
        return model

    return register


# Modules whose import registers the platform's contracts; loaded on the first look-up.
CATALOG = (
    "common.contracts.intake",
    "common.contracts.contact",
    "common.contracts.reminders",
    "common.contracts.visits",
)
_catalog_loaded = False


def _ensure_catalog() -> None:
    global _catalog_loaded
    if not _catalog_loaded:
        for module in CATALOG:
            importlib.import_module(module)
        _catalog_loaded = True


def resolve(ce_type: str, version: int = 1) -> type[Contract]:
    _ensure_catalog()
    try:
        return _REGISTRY[(ce_type, version)]
    except KeyError:
        raise UnknownEventTypeError(f"no contract for {ce_type} v{version}") from None


def type_of(model: type[Contract]) -> tuple[str, int]:
    """The (ce_type, version) a model was registered under."""
    try:
        return _TYPES[model]
    except KeyError:
        raise UnknownEventTypeError(f"{model.__name__} is not a registered contract") from None


def registered() -> dict[tuple[str, int], type[Contract]]:
    _ensure_catalog()
    return dict(_REGISTRY)
