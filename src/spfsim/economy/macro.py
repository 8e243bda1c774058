"""Macroeconomic and labour-market paths (the second link of the ILO model chain).

Indices are 1 in the base year and grow with the rates of each later year: the growth given
for the base year itself is the growth *into* the base year and does not enter the indices.
GDP grows with employment, real average earnings and prices, i.e. the labour share of GDP is
held constant (ILO social budget convention when no separate productivity path is given).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import Assumptions


@dataclass
class EconomicProjection:
    """Economic paths over the projection years; labour arrays are (year, age, sex)."""

    price_index: np.ndarray
    wage_index: np.ndarray
    average_earnings: np.ndarray  # currency per covered worker per year
    gdp: np.ndarray  # currency, nominal
    interest_rate: np.ndarray  # nominal return on reserves, fraction per year
    labour_force: np.ndarray
    employed: np.ndarray
    covered: np.ndarray  # employed persons in contributory coverage
    earnings: np.ndarray  # annual earnings of a covered worker by age and sex
    self_employed: np.ndarray  # covered persons who are self-employed / voluntary
    disabled: np.ndarray  # persons out of work through disability (among the inactive)
    gdp_per_capita: np.ndarray  # currency per resident per year
    poverty_line: np.ndarray  # currency per person per year (NaN: not given)
    government_revenue: np.ndarray  # currency per year (NaN: not given)
    # resources the government states it can devote to social protection, fraction of GDP
    # per year (NaN: not given); ILC 2021 para. 15(a), (g)
    fiscal_envelope: np.ndarray

    def non_contributing(self, k: int | slice, population: np.ndarray) -> np.ndarray:
        """(age, sex, 4) persons of year k who do not contribute, by labour state, in this
        order: informal workers, the unemployed, the inactive other than the disabled, the
        disabled (both engines' order); ``population`` (age, sex) is that year's. With a
        slice of years k, (year, age, sex, 4) and ``population`` of those years."""
        return np.clip(np.stack([
            self.employed[k] - self.covered[k], self.labour_force[k] - self.employed[k],
            population - self.labour_force[k] - self.disabled[k], self.disabled[k]],
            axis=-1), 0.0, None)


def _index(growth: np.ndarray) -> np.ndarray:
    """Index equal to 1 in the first year, compounding the growth of each later year."""
    factors = np.concatenate([[1.0], 1.0 + growth[1:]])
    return np.cumprod(factors)


def project_economy(assumptions: Assumptions, population: np.ndarray) -> EconomicProjection:
    """Economic and labour paths for a projected ``population`` (year, age, sex)."""
    a = assumptions
    growth = a.series_growth
    price_index = _index(growth["prices"])
    wage_index = _index(growth["wages"])
    labour_force = population * a.participation
    employed = labour_force * (1.0 - a.unemployment)
    covered = employed * a.coverage
    # the earnings profile is scaled so that covered workers' mean in the base year is the
    # average earnings of the model file
    weights = covered[0]
    mean_relative = float((weights * a.relative_earnings[0]).sum() / weights.sum()) \
        if weights.sum() > 0 else 1.0
    average_earnings = a.average_earnings_base * wage_index
    earnings = average_earnings[:, None, None] * a.relative_earnings / mean_relative
    total_employed = employed.sum(axis=(1, 2))
    real_growth = np.concatenate([[1.0], (1.0 + a.real_wage_growth[1:])])
    price_growth = np.concatenate([[1.0], (1.0 + a.inflation[1:])])
    employment_growth = total_employed / np.concatenate([[total_employed[0]],
                                                         total_employed[:-1]])
    gdp = a.gdp_base * np.cumprod(real_growth * price_growth * employment_growth)
    self_employed = covered * a.self_employed_share
    disabled = np.minimum(population * a.disability_prevalence, population - labour_force)
    # a poverty line is a basket's price: it moves with prices (R202 para. 8(a), 8(c))
    poverty_line = (a.poverty_line_base if a.poverty_line_base is not None
                    else np.nan) * price_index
    revenue = (a.revenue_share if a.revenue_share is not None else np.nan) * gdp
    share = a.fiscal_envelope  # NaN when the model states none
    envelope = np.full(len(gdp), np.nan if share is None else float(share))
    return EconomicProjection(price_index, wage_index, average_earnings, gdp,
                              a.interest_rate.copy(), labour_force, employed, covered, earnings,
                              self_employed, disabled, gdp / population.sum(axis=(1, 2)),
                              poverty_line, revenue, envelope)
