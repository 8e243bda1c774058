"""Shared fixtures: a small synthetic model written to disk, and the shared data folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from model_factory import write_small_model

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def small_model_dir(tmp_path: Path) -> Path:
    """A fresh, valid small model that a test may modify."""
    return write_small_model(tmp_path / "small")


@pytest.fixture(scope="session")
def small_projection(tmp_path_factory):
    """The small model's projection (computed once per session)."""
    import spfsim

    folder = write_small_model(tmp_path_factory.mktemp("small") / "small")
    return spfsim.load_model(folder).project()


@pytest.fixture(scope="session")
def default_projection():
    """The default model's projection (computed once per session)."""
    import spfsim

    return spfsim.load_model().project()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} is absent (it ships with the "
                    "project's CI machines, not with the package)")
    return SHARED_DATA
