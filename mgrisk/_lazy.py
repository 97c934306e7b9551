"""Package attributes imported on first use (PEP 562), so that importing one submodule (e.g. a
numba kernel in a child process) does not import the whole package."""

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str]):
    """A module's ``__getattr__`` and ``__dir__``: ``name`` is imported from the submodule
    ``exports[name]`` (relative to ``package``) when first looked up; ``dir()`` lists it."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name], package), name)

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
