"""Lazy names for a package (PEP 562): each is imported from its module on
first use, so a program pays only for what it touches."""

import importlib
from typing import Any, Callable, Dict, List, Tuple


def names(package: str, table: Dict[str, str], namespace: Dict[str, Any]) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """Returns a package's ``__getattr__`` and ``__dir__``: ``table`` maps a
    name to the submodule of ``package`` that defines it; a name once
    imported is kept in ``namespace`` (the package's globals)."""

    def getattr_(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def dir_() -> List[str]:
        return sorted(set(namespace) | set(table))

    return getattr_, dir_
