"""Register ``ds.spf`` (:mod:`spfsim.report.accessor`) once xarray is imported.

Imported by ``import spfsim``: this module and ``spfsim/report/__init__.py`` import nothing
heavy.

``import spfsim`` must stay light (``spfsim --help`` does not need xarray, which takes longer
to import than the rest of spfsim), yet ``ds.spf`` should work on any Dataset once spfsim is
imported, also on one read from a file with xarray alone. So: if xarray is already imported,
the accessor module is imported now; otherwise a one-shot import hook imports it right after
xarray itself has been imported, whoever imports xarray. The hook removes itself then, and
otherwise costs one name comparison per import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

_TRIGGER = "xarray"


def _register() -> None:
    try:
        import spfsim.report.accessor  # noqa: F401 - registers the accessor
    except Exception as exc:  # xarray must import whatever happens here
        warnings.warn(f"spfsim: the ds.spf accessor is not available: {exc}", stacklevel=2)


class _AfterXarray(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps xarray's loader so that the accessor registers after it."""

    def find_spec(self, fullname: str, path: object = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TRIGGER:
            return None
        _remove_hook()
        spec = importlib.util.find_spec(fullname)  # the other finders, without this one
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_then_register(module: ModuleType) -> None:
            exec_module(module)
            _register()

        loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


def _remove_hook() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _AfterXarray)]


def register_accessor_with_xarray() -> None:
    """Register ``ds.spf`` now if xarray is imported, else right after it is."""
    if _TRIGGER in sys.modules:
        _register()
    elif not any(isinstance(f, _AfterXarray) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterXarray())
