"""The installed spfsim version, in the lowest layer so that any module may record it in
its results without importing the package's face."""

from __future__ import annotations

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("spfsim")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"
