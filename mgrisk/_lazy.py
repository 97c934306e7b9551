"""Package attributes imported on first use (PEP 562), so that importing one submodule (e.g. a
numba kernel in a child process) does not import the whole package."""

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """A module ``__getattr__`` that imports ``exports[name]`` (a submodule, relative to
    ``package``) when ``name`` is first looked up, and returns its attribute ``name``."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name], package), name)

    return __getattr__
