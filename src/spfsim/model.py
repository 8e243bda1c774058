"""The user-facing model: load a model folder, project it, get the results Dataset."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import SpfsimError
from .params import Assumptions, ModelInput, StochasticSpec, compile_assumptions, read_model

if TYPE_CHECKING:
    import xarray as xr

    from .scenarios import Reform

DEFAULT_MODEL = "default"
ENGINES = ("cohort", "micro")
#: Bytes the micro engine holds per simulated person beyond its state arrays (work arrays,
#: exact alignment's sort: docs/micro.md), and its slots per person at the start (the
#: store holds those gone since the last compaction and a year's entrants).
MICRO_WORK_BYTES, MICRO_SLOTS_PER_PERSON = 40, 1.3


def micro_memory_bytes(persons: int) -> int:
    """A lower bound of the memory the micro engine needs for ``persons`` (bytes): the
    person store's slots (spfsim.engine.micro.store) and the per-person work arrays; a
    growing population needs more."""
    from .engine.micro.store import PersonStore

    per_slot = sum(np.dtype(d).itemsize for d in PersonStore.DTYPES.values())
    return int(persons * (MICRO_SLOTS_PER_PERSON * per_slot + MICRO_WORK_BYTES))


def available_memory_bytes() -> int | None:
    """Memory this machine can give a run now (MemAvailable, else all physical memory),
    bytes; None where neither is known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_micro_memory(persons: int) -> None:
    """Refuse (ResourceError) a micro run whose persons cannot fit in this machine's
    memory, before anything is allocated."""
    from .errors import ResourceError

    if persons < 1:
        raise ResourceError(f"persons must be at least 1 (got {persons})")
    needed, available = micro_memory_bytes(persons), available_memory_bytes()
    if available is not None and needed > available:
        raise ResourceError(
            f"{persons:,} simulated persons need at least {needed / 2**30:,.1f} GiB of "
            f"memory (about {needed // persons} bytes a person), and this machine has "
            f"{available / 2**30:,.1f} GiB available: simulate fewer persons (results "
            "converge to the cohort engine's as persons grow; docs/micro.md)")


def models_root() -> Path:
    """Folder holding the ready-to-run models: inside the installed package, or, in a
    source checkout, the repository's ``models/``."""
    bundled = Path(str(resources.files("spfsim"))) / "_bundled" / "models"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parents[2] / "models"


def default_model_path() -> Path:
    return models_root() / DEFAULT_MODEL


class Model:
    """A loaded, validated model. ``project()`` returns the results Dataset.

    ``reform`` is the :class:`~spfsim.scenarios.Reform` applied to the model's own file,
    or None for the baseline (see :meth:`with_reform`).
    """

    def __init__(self, model_input: ModelInput, assumptions: Assumptions,
                 reform: Reform | None = None):
        self.input = model_input
        self.assumptions = assumptions
        self.reform = reform

    @property
    def name(self) -> str:
        return self.input.name

    @property
    def path(self) -> Path:
        return self.input.path

    @property
    def years(self) -> np.ndarray:
        return self.assumptions.years

    def __repr__(self) -> str:
        schemes = ", ".join(f"{s.id} ({s.type})" for s in self.input.schemes)
        reform = "" if self.reform is None else f", reform {self.reform.name!r}"
        return (f"<spfsim.Model {self.name!r} {self.years[0]}-{self.years[-1]}{reform}, "
                f"schemes: {schemes}>")

    def with_reform(self, reform: str | Path) -> Model:
        """A new, independent Model: this one with a reform file's parameter overrides.

        ``reform``: a reform file (docs/model-format.md, "Reforms"), or the name of one in
        the model's ``reforms/`` folder (e.g. ``"higher-minimum-pension"``). Same horizon as
        this model; this model is left unchanged. Raises
        :class:`~spfsim.errors.AssumptionError` listing every problem of the reform file,
        ``ValueError`` if this model already has a reform (write one file holding both).
        """
        from .scenarios import apply_reform

        if self.reform is not None:
            raise ValueError(f"the model already has the reform {self.reform.name!r}; apply "
                             "reforms to the baseline (one reform file may change several "
                             "parameters)")
        model_input, parsed = apply_reform(self.input, reform)
        return Model(model_input, compile_assumptions(model_input, int(self.years[-1])),
                     parsed)

    def project(self, engine: str = "cohort", *, persons: int = 100_000, seed: int = 0,
                chunk_size: int | None = None, permanent_sd: float | None = None,
                transitory_sd: float | None = None, person_file: str | Path | None = None,
                alignment: str = "expected", labour_persistence: float | None = None,
                progress: Callable[[str], None] | None = None,
                client: object | None = None, families: bool = True,
                poverty: bool = True) -> xr.Dataset:
        """Run the projection and return the results-contract Dataset.

        ``engine``: "cohort" (expected values) or "micro" (``persons`` simulated life
        courses, random numbers keyed by ``seed``; ``chunk_size`` persons per parallel
        work item; ``permanent_sd`` and ``transitory_sd`` the log-sd of individual earnings
        heterogeneity, by default the model's ``[economy] earnings_permanent_sd`` and
        ``earnings_transitory_sd``, which the cohort engine follows; ``person_file`` a CSV
        or Parquet file of base-year records to start
        from, see docs/micro.md; ``alignment`` "expected" or "exact"; ``labour_persistence``
        how strongly non-contributors keep their labour state, by default the model's
        ``[economy] labour_persistence``, which the cohort engine follows; ``client``, a
        dask.distributed Client: the persons split across its workers, with bitwise the
        result of one process, see docs/micro.md; ``families`` False: persons without
        family links even where the model has a families table, which a run split across
        workers needs; ``poverty`` False: household poverty not measured even where the
        model has a [poverty] section, about a third faster with families, see
        docs/micro.md). ``progress`` (optional) is called with a short message per stage.
        """
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; available: {ENGINES}")
        from .pipeline import run_projection

        micro = None
        if engine == "micro":
            from .engine.micro.engine import DEFAULT_CHUNK, MicroSettings

            check_micro_memory(persons)

            a = self.assumptions
            micro = MicroSettings(persons, seed, chunk_size or DEFAULT_CHUNK,
                                  a.earnings_permanent_sd if permanent_sd is None
                                  else permanent_sd,
                                  a.earnings_transitory_sd if transitory_sd is None
                                  else transitory_sd, None if person_file is None
                                  else str(person_file),
                                  self.assumptions.labour_persistence
                                  if labour_persistence is None else labour_persistence,
                                  alignment, families, poverty)
        ds = run_projection(self.input, self.assumptions, engine,
                            progress or (lambda _msg: None), micro,
                            client if engine == "micro" else None)
        if self.reform is not None:
            ds.attrs["title"] = f"{ds.attrs.get('title', '')}, reform: {self.reform.title}"
            ds.attrs.update(self.reform.attrs())
        return ds

    def _own_population(self, what: str) -> None:
        """Refuse ``what``, which varies the demographic assumptions around the model's own
        projection, for a model that follows an external population projection."""
        if self.assumptions.population_projection is not None:
            raise SpfsimError(f"{what} vary the model's own demography, and {self.name!r} "
                              "follows an external population projection (its "
                              "population_projection table): remove the table to run them")

    def project_stochastic(self, draws: int | None = None, *, seed: int | None = None,
                           percentiles: tuple[float, ...] | None = None,
                           keep_draws: bool = False,
                           spec: StochasticSpec | None = None,
                           progress: Callable[[int], None] | None = None,
                           client: object | None = None) -> xr.Dataset:
        """Project the model under its ``[stochastic]`` assumptions with the cohort engine
        and return the stochastic results Dataset (docs/stochastic.md): percentiles of the
        key series, the probability that each reserve is exhausted by each year, the
        distributions of the depletion year, actuarial balance and general average premium,
        and with ``keep_draws`` every draw's key series along ``draw``.

        ``draws``, ``seed`` and ``percentiles`` default to the model file's; ``spec``
        replaces its section (e.g. ``spec.without_variance()``). Draw k is the same whatever
        the number of draws, and a reform run with the same seed sees the same futures.
        ``progress(k)`` is called as draws finish. ``client``: a ``distributed.Client`` whose
        workers project blocks of draws in parallel (the same numbers, bitwise). Raises
        ``ValueError`` when the model declares no stochastic assumptions.
        """
        from .stochastic import simulate, stochastic_dataset

        self._own_population("stochastic projections")
        spec = spec or self.input.stochastic
        if spec is None:
            raise ValueError(f"the model {self.name!r} has no [stochastic] section: declare "
                             "which assumptions vary (docs/stochastic.md)")
        n = spec.draws if draws is None else int(draws)
        seed = spec.seed if seed is None else int(seed)
        if n < 1:
            raise ValueError(f"draws must be at least 1, not {n}")
        results = simulate(self.assumptions, spec, n, seed, progress, client=client)
        attrs = {"model": self.name, "title": self.input.title, "seed": seed,
                 "engine": "cohort", "currency": self.input.currency}
        if self.reform is not None:
            attrs.update(self.reform.attrs())
        return self._named_schemes(stochastic_dataset(
            results, percentiles or spec.percentiles, keep_draws, attrs))

    def sensitivity(self, ranges: Mapping[str, tuple[float, float]] | None = None
                    ) -> xr.Dataset:
        """One-at-a-time sensitivity tests (docs/stochastic.md): the model projected with
        each assumption at its low and high value, the others as assumed; the actuarial
        balance, general average premium, depletion year and last year's PAYG cost rate of
        every variant and of the baseline. ``ranges`` (assumption -> (low, high)) defaults
        to the model file's ``[stochastic.sensitivity]``."""
        from .stochastic.sensitivity import sensitivity_dataset

        self._own_population("sensitivity tests")
        if ranges is None:
            ranges = {} if self.input.stochastic is None else self.input.stochastic.sensitivity
        attrs = {"model": self.name, "title": self.input.title, "engine": "cohort",
                 "currency": self.input.currency}
        if self.reform is not None:
            attrs.update(self.reform.attrs())
        return self._named_schemes(sensitivity_dataset(self.assumptions, dict(ranges), attrs))

    def sobol(self, samples: int = 64, seed: int | None = None,
              ranges: Mapping[str, tuple[float, float]] | None = None,
              progress: Callable[[int, int], None] | None = None,
              client: object | None = None) -> xr.Dataset:
        """Global (Sobol) sensitivity analysis over the one-at-a-time tests' ranges
        (docs/stochastic.md): every assumption uniform over its range, all moved together
        at ``samples`` x (number of assumptions + 2) points of Saltelli's design (a power of
        two; 64 with the default model's seven assumptions: 576 projections, 42 s in one
        process, 23 s on two worker processes); the first-order and total Sobol indices,
        with confidence intervals, of each funded scheme's actuarial balance and depletion
        year (:func:`spfsim.stochastic.sobol.sobol_dataset`).

        A method of its own rather than an option of :meth:`sensitivity`: it answers a
        different question (shares of variance, not one variant's effect), costs hundreds
        of projections instead of a few, needs the optional SALib
        (``pip install 'spfsim[stochastic]'``) and returns a Dataset of another shape.

        ``seed`` (default: the model file's ``[stochastic]`` seed, else 0) keys the
        scrambling of the Sobol sequence and the bootstrap of the confidence intervals;
        ``ranges`` defaults to ``[stochastic.sensitivity]``; ``progress(done, total)``
        after each projection. ``client``: a ``distributed.Client`` whose workers project
        blocks of the points in parallel (the same numbers, bitwise)."""
        from .stochastic.sobol import sobol_dataset

        self._own_population("the Sobol analysis")
        spec = self.input.stochastic
        if ranges is None:
            ranges = {} if spec is None else spec.sensitivity
        if seed is None:
            seed = 0 if spec is None else spec.seed
        attrs = {"model": self.name, "title": self.input.title, "engine": "cohort",
                 "currency": self.input.currency}
        if self.reform is not None:
            attrs.update(self.reform.attrs())
        return self._named_schemes(sobol_dataset(self.assumptions, dict(ranges), samples, seed,
                                                 attrs, progress, client))

    def _named_schemes(self, ds: xr.Dataset) -> xr.Dataset:
        """``ds`` with the ``scheme_name`` of each of its schemes, as a projection has, so
        that its workbook and figures name schemes in words, not by id."""
        names = {scheme.id: scheme.name for scheme in self.input.schemes}
        ids = [str(s) for s in ds["scheme"].values]
        return ds.assign_coords(scheme_name=("scheme", [names.get(i, i) for i in ids],
                                             {"long_name": "name of the scheme"}))

    def with_parameters(self, overrides: Mapping[str, Mapping[str, object]],
                        name: str = "parameters") -> Model:
        """A new, independent Model: this one with scheme parameters replaced in memory.

        ``overrides``: scheme id -> parameter name -> value as in ``model.toml`` or a reform
        file (Python numbers, strings and dicts; effective years as int or str keys), e.g.
        ``{"pension": {"retirement_age": {"male": {2025: 63}, "female": {2025: 61}}}}``.
        Whole parameters are replaced, parsed and cross-checked as a reform file's are
        (:func:`spfsim.scenarios.apply_reform`), but nothing is read or written on disk. The
        change is recorded as the model's reform (``name``; file ``<in memory>``, hash of
        the overrides), so a projection's attrs say what was changed. On a model that
        already has a reform the overrides apply on top of it, and the record names both
        (``"<reform> + <name>"``, the reform's file, a hash of the reform's and of the
        overrides). Raises :class:`~spfsim.errors.AssumptionError` listing every problem.
        """
        import copy
        import hashlib
        import json

        from .errors import ProblemLog
        from .scenarios import Reform, override_parameters

        source, log = Path("<in memory>"), ProblemLog()
        new_input = copy.deepcopy(self.input)
        by_id = {scheme.id: scheme for scheme in new_input.schemes}
        for scheme_id, params in overrides.items():
            scheme = by_id.get(scheme_id)
            if scheme is None:
                log.add(source, f"schemes.{scheme_id}", f"the model {self.name!r} has no scheme "
                        f"with this id; its schemes: {sorted(by_id)}", None, scheme_id)
                continue
            override_parameters(scheme, params, f"schemes.{scheme_id}", new_input.base_year,
                                source, log)
            scheme.raw = {**scheme.raw, "parameters": {**scheme.raw.get("parameters", {}),
                                                       **copy.deepcopy(dict(params))}}
        log.raise_if_any()
        changes = {sid: dict(params) for sid, params in overrides.items()}
        listing = ", ".join(f"{sid}.{key}" for sid, params in changes.items() for key in params)
        title = f"scheme parameters changed in memory: {listing}"
        digest = hashlib.sha256(json.dumps(changes, default=str).encode()).hexdigest()
        base = self.reform
        if base is None:
            reform = Reform(name, title, "", source, digest, changes)
        else:  # on top of the reform: both recorded
            merged = copy.deepcopy(base.overrides)
            for sid, params in changes.items():
                merged[sid] = {**merged.get(sid, {}), **params}
            reform = Reform(f"{base.name} + {name}", f"{base.title}; {title}",
                            base.description, base.path,
                            hashlib.sha256(f"{base.sha256}:{digest}".encode()).hexdigest(),
                            merged)
        return Model(new_input, compile_assumptions(new_input, int(self.years[-1])), reform)

    def parameter_projection(self, scheme_id: str, engine: str = "cohort",
                             **options: object) -> Callable[[Mapping[str, object]], xr.Dataset]:
        """A callable ``parameters -> Dataset``: this model projected (``engine`` and
        ``options`` as in :meth:`project`) with ``scheme_id``'s parameters replaced in
        memory (:meth:`with_parameters`). The form the financing solvers take, e.g.
        :class:`spfsim.finance.ModelBalance`; one projection per call."""
        def project(parameters: Mapping[str, object]) -> xr.Dataset:
            return self.with_parameters({scheme_id: parameters}).project(engine, **options)

        return project


def load_model(path: str | Path | None = None, end_year: int | None = None,
               reform: str | Path | None = None) -> Model:
    """Load and validate a model folder (None: the default model shipped with spfsim).

    ``end_year`` shortens the projection horizon. ``reform`` applies a reform file (a path,
    or the name of a file in the model's ``reforms/`` folder; see
    :meth:`Model.with_reform`). Raises :class:`spfsim.errors.AssumptionError` listing every
    problem found.
    """
    from .schemes import SCHEME_TYPES

    model_input = read_model(default_model_path() if path is None else Path(path), SCHEME_TYPES)
    parsed = None
    if reform is not None:
        from .scenarios import apply_reform

        model_input, parsed = apply_reform(model_input, reform)
    return Model(model_input, compile_assumptions(model_input, end_year), parsed)
