"""``ds.spf``: the report's tables and figures as methods of a projection's Dataset.

Registered when this module is imported, which ``import spfsim`` arranges as soon as xarray
is imported (without importing xarray itself, see :mod:`spfsim`)::

    import spfsim
    ds = spfsim.load_model().project()
    ds.spf.cost_rate()                 # PAYG cost rate (year, scheme), contributory schemes
    ds.spf.pyramid(2050)               # population (age, sex) at 1 July 2050
    ds.spf.summary()                   # the key figures of the workbook's Summary sheet
    ds.spf.compare(reform_ds)          # spfsim.scenarios.compare(ds, reform_ds)
    ds.spf.plot.cost_rates()           # the figure spfsim run writes as cost_rates.png

Every method calls the function the workbook or the figure writer uses (:mod:`.series`,
:mod:`.summary`, :mod:`.plots`, :func:`spfsim.scenarios.compare`): one implementation. The
heavy modules (matplotlib) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import xarray as xr

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SpfAccessor", "SpfPlots"]


class SpfPlots:
    """``ds.spf.plot``: the report's figures (:mod:`spfsim.report.plots`), each a
    :class:`matplotlib.figure.Figure` that shows inline in Jupyter; the names are those of
    the PNG files of ``spfsim run``."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def population_pyramid(self, year: int) -> Figure:
        """Population by age and sex at 1 July of ``year`` (population_pyramid_<year>.png)."""
        from .plots import population_pyramid

        return population_pyramid(self._ds, year)

    def cost_rates(self) -> Figure:
        """PAYG cost rate of the contributory schemes and cost of every scheme, % of GDP."""
        from .plots import cost_rate_figure

        return cost_rate_figure(self._ds)

    def reserve_ratio(self) -> Figure:
        """Reserve ratio of the contributory schemes, with their depletion years."""
        from .plots import reserve_ratio_figure

        return reserve_ratio_figure(self._ds)

    def reserve_ratio_methods(self) -> Figure:
        """Reserve ratio of each funded scheme under each financing method."""
        from .plots import reserve_ratio_methods_figure

        return reserve_ratio_methods_figure(self._ds)

    def cohort_irr(self) -> Figure:
        """Internal rate of return of each birth cohort, by sex and contributory scheme."""
        from .plots import cohort_irr_figure

        return cohort_irr_figure(self._ds)

    def standard(self) -> dict[str, Figure]:
        """Every figure ``spfsim run`` writes, by file name, drawn now."""
        from .plots import standard_figures

        return {name: draw() for name, draw in standard_figures(self._ds).items()}


@xr.register_dataset_accessor("spf")
class SpfAccessor:
    """The ``spf`` namespace of a projection's Dataset (see the module's documentation)."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    @property
    def plot(self) -> SpfPlots:
        """The report's figures: ``ds.spf.plot.cost_rates()`` and so on."""
        return SpfPlots(self._ds)

    def cost_rate(self, by_payment: bool = False) -> xr.DataArray:
        """PAYG cost rate of the contributory schemes, (year, scheme), a fraction of insured
        earnings; ``by_payment``: split into periodic benefits and lump sums
        (:func:`spfsim.report.series.cost_rate`)."""
        from .series import cost_rate

        return cost_rate(self._ds, by_payment=by_payment)

    def pyramid(self, year: int) -> xr.DataArray:
        """Population at 1 July of ``year``, (age, sex), persons
        (:func:`spfsim.report.series.pyramid`); ``ds.spf.plot.population_pyramid(year)``
        draws it."""
        from .series import pyramid

        return pyramid(self._ds, year)

    def summary(self) -> xr.Dataset:
        """The key figures in the key years (:func:`spfsim.report.summary.key_figures`)."""
        from .summary import key_figures

        return key_figures(self._ds)

    def summary_text(self) -> str:
        """The summary ``spfsim run`` prints (:func:`spfsim.report.summary.summary_lines`)."""
        from .summary import summary_lines

        return "\n".join(summary_lines(self._ds))

    def compare(self, other: xr.Dataset) -> xr.Dataset:
        """This projection as the baseline beside ``other`` as the reform, and their
        difference (:func:`spfsim.scenarios.compare`)."""
        from ..scenarios import compare

        return compare(self._ds, other)
