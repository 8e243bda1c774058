"""Batches of projections: a grid of cases described in a TOML file (:mod:`.spec`), run as
Dask tasks into one zarr store that a killed run resumes (:mod:`.run`). See docs/batch.md."""

from .run import BatchResult, open_batch, run_batch, run_case
from .spec import BatchSpec, Case, read_batch

__all__ = ["BatchResult", "BatchSpec", "Case", "open_batch", "read_batch", "run_batch",
           "run_case"]
