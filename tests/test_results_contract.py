"""The results contract (spfsim.results.registry): every variable a projection holds is
registered, with the registered dims and attrs; the Dataset follows the CF conventions
where they apply (the layering itself: tests/test_layers.py)."""

from __future__ import annotations

import re

import pytest
import xarray as xr
from model_factory import write_small_model

import spfsim
from spfsim.indicators import WORKING_AGE_RANGE
from spfsim.pipeline import SCALED_PREMIUM_PERIOD
from spfsim.results import registry
from spfsim.results.assemble import ENTRY_AGE
from spfsim.results.registry import CONTRACT_DIMS, COORDINATES, REGISTRY

# The units the contract uses: counts, fractions, durations, and money in the model's
# currency (at current prices, or a present value at a date, or in base-year earnings).
UNITS = re.compile(r"persons|households|fraction|1|years|1 per year|fraction per year|calendar year"
                   r"|years of age"
                   r"|\{money\}( per (person|beneficiary|contributor|equivalent adult))?"
                   r"( per year)?"
                   r"|(\{currency\}|base-year average earnings) \(present value at 1 January "
                   r"\{base_year\}( at the interest path)?\)")
FIELDS = {"money", "currency", "base_year", "end_year", "entry_age", "working_ages", "over",
          "period"}
# CF standard names the contract may use (none applies today: see the registry's notes).
CF_STANDARD_NAMES: set[str] = set()


@pytest.fixture(scope="module")
def micro_projection(tmp_path_factory) -> xr.Dataset:
    folder = write_small_model(tmp_path_factory.mktemp("small") / "small")
    return spfsim.load_model(folder).project("micro", persons=2000, seed=3)


def _expected_attrs(ds: xr.Dataset, name: str) -> dict[str, str]:
    ctx = registry.context(ds.attrs["currency"], ds.attrs["base_year"], ds.attrs["end_year"],
                           entry_age=ENTRY_AGE, working_ages=WORKING_AGE_RANGE,
                           period=SCALED_PREMIUM_PERIOD)
    horizon = int(ds["actuarial_balance"].attrs["horizon_years"])
    first = int(ds.attrs["base_year"])
    ctx["over"] = f"over {horizon} years ({first}-{first + horizon - 1})"
    return REGISTRY[name].attrs(ctx)


def _check_against_registry(ds: xr.Dataset) -> None:
    unregistered = sorted(set(ds.data_vars) - set(REGISTRY))
    assert not unregistered, f"variables missing from the registry: {unregistered}"
    for name, da in ds.data_vars.items():
        entry = REGISTRY[name]
        assert da.dims == entry.dims, name
        expected = _expected_attrs(ds, name)
        for key, value in expected.items():
            assert da.attrs.get(key) == value, (name, key)


def test_default_cohort_projection_follows_the_registry(default_projection):
    _check_against_registry(default_projection)


def test_micro_projection_follows_the_registry(micro_projection):
    ds = micro_projection
    assert {"persons_by_status", "lifetime_pv", "birth_cohort_complete"} <= set(ds.data_vars)
    _check_against_registry(ds)


def test_producers_attrs_agree_with_the_registry(small_model_dir, monkeypatch):
    """The layers that make variables outside the results layer (demography, finance,
    equity) still set attrs of their own; the registry's replace them, and must say the
    same (a change in one place shows here, to be made in the other)."""
    import spfsim.pipeline as pipeline

    seen = {}
    original = pipeline.apply_contract

    def recording(ds, ctx):
        seen.update({name: dict(ds[name].attrs) for name in ds.data_vars})
        return original(ds, ctx)

    monkeypatch.setattr(pipeline, "apply_contract", recording)
    ds = spfsim.load_model(small_model_dir).project()
    for name, attrs in seen.items():
        expected = _expected_attrs(ds, name)
        for key in ("units", "long_name"):
            assert attrs.get(key) == expected[key], (name, key)


def test_every_entry_has_units_long_name_and_contract_dims():
    for name, entry in REGISTRY.items():
        assert entry.name == name
        assert entry.units.strip(), name
        assert entry.long_name.strip(), name
        assert set(entry.dims) <= set(CONTRACT_DIMS) <= set(COORDINATES), name
        assert len(set(entry.dims)) == len(entry.dims), name
        assert entry.fields <= FIELDS, (name, entry.fields - FIELDS)
        assert UNITS.fullmatch(entry.units), (name, entry.units)
        if entry.standard_name is not None:
            assert entry.standard_name in CF_STANDARD_NAMES, name


def test_registry_builds_variables_and_names_what_is_missing():
    var = registry.variable("state_cost", [1.0, 2.0], money="XOF (nominal)")
    assert var.dims == ("year",)
    assert var.attrs["units"] == "XOF (nominal) per year"
    with pytest.raises(KeyError, match=r"state_cost.*money"):
        registry.variable("state_cost", [1.0])
    with pytest.raises(KeyError, match="not in the results registry"):
        registry.spec("no_such_variable")


def test_cf_global_attributes(default_projection):
    attrs = default_projection.attrs
    assert re.fullmatch(r"CF-1\.\d+", attrs["Conventions"])
    for key in ("title", "source", "history"):
        assert isinstance(attrs[key], str), key
        assert attrs[key], key
    history = attrs["history"]
    assert history.startswith(attrs["created"])
    for part in (attrs["spfsim_version"], attrs["input_hash"].removeprefix("sha256:"),
                 attrs["engine"], attrs["model"]):
        assert part in history
    for name, coord in default_projection.coords.items():
        assert coord.attrs.get("long_name"), name


def test_comparison_history_continues_the_projections(default_projection):
    from spfsim.scenarios import compare

    cmp = compare(default_projection, default_projection)
    lines = cmp.attrs["history"].split("\n")
    assert lines[0].startswith(cmp.attrs["created"])
    assert "compared" in lines[0]
    assert lines[1:] == [default_projection.attrs["history"]] * 2
    assert cmp.attrs["Conventions"] == default_projection.attrs["Conventions"]


def test_cf_attrs_survive_netcdf(default_projection, tmp_path):
    path = tmp_path / "ds.nc"
    default_projection[["gdp", "reserve"]].to_netcdf(path)
    with xr.open_dataset(path) as back:
        assert back.attrs["Conventions"] == default_projection.attrs["Conventions"]
        assert back["gdp"].attrs["units"] == default_projection["gdp"].attrs["units"]


def test_the_parts_of_a_projection_join_on_its_own_coordinates():
    """joined adds a part's variables to the projection without comparing them again, so
    it refuses what that would hide: other coordinates, and a variable made twice."""
    from spfsim.results.assemble import joined

    ds = xr.Dataset({"a": ("year", [1.0, 2.0])}, coords={"year": [2025, 2026]},
                    attrs={"title": "kept"})
    out = joined(ds, xr.Dataset({"b": ("year", [3.0, 4.0])}, coords={"year": [2025, 2026]}))
    assert list(out.data_vars) == ["a", "b"]
    assert out.attrs == {"title": "kept"}
    with pytest.raises(ValueError, match="made twice"):
        joined(ds, xr.Dataset({"a": ("year", [1.0, 2.0])}, coords={"year": [2025, 2026]}))
    with pytest.raises(ValueError, match="join='exact'"):
        joined(ds, xr.Dataset({"b": ("year", [3.0, 4.0])}, coords={"year": [2026, 2027]}))


def test_a_part_made_into_the_results_keeps_to_its_coordinates():
    """build_dataset takes the coordinates of a part made elsewhere (the equity by
    cohort) that the results lack, and refuses one whose labels differ from the
    results' own, as the merge it replaces did with join='exact'."""
    from spfsim.results.assemble import _new_coordinates

    own = {"sex": ("sex", ["male", "female"]), "scheme": ("scheme", ["a", "b"])}
    part = {"cohort": ("cohort", [1950, 1951]), "sex": ("sex", ["male", "female"])}
    assert _new_coordinates(own, part) == {"cohort": ("cohort", [1950, 1951])}
    with pytest.raises(ValueError, match="'scheme' of a part of the projection"):
        _new_coordinates(own, {"scheme": ("scheme", ["a", "c"])})


def test_projections_share_no_coordinate_values_or_attrs(default_projection):
    """The results Dataset's coordinates are made once per set of labels, the dimension
    indexes shared (they are immutable); the coordinates' values and attrs, of the
    dimensions and of the others (the schemes' names), are each projection's own."""
    again = spfsim.load_model().project()
    for name in ("year", "scheme", "scheme_name", "age"):
        assert again[name].variable is not default_projection[name].variable
        assert again[name].attrs == default_projection[name].attrs
    again["scheme_name"].values[0] = "changed"
    again["year"].attrs["note"] = "changed"
    again["scheme_name"].attrs["note"] = "changed"
    assert default_projection["scheme_name"].values[0] != "changed"
    assert "note" not in default_projection["year"].attrs
    assert "note" not in default_projection["scheme_name"].attrs
    assert again.indexes["scheme"].equals(default_projection.indexes["scheme"])
