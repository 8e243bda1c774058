"""The cohort engine's pension projection as one compiled loop over its years.

Each year of a contributory pension runs a dozen compiled transitions
(:mod:`.cohort_kernels`, :mod:`.cohort_survivor_kernels`, the record of
:mod:`.cohort_record`). Called one by one from :meth:`PensionState.step
<spfsim.engine.cohort_state.PensionState.step>`, :meth:`~spfsim.engine.cohort_record.
PensionRecord.record` and :meth:`~spfsim.engine.cohort_state.PensionState.advance`, the
Python between them (each call's arguments, the year's small array operations) took
about a sixth of a stochastic draw of the default model. :func:`project_years` stacks
every year's inputs into arrays by year once and runs the same transitions, in the same
order on the same numbers, in one compiled call: the projection is bitwise the one of
the year-by-year path (``tests/test_cohort_kernels.py``), which remains for Numba's JIT
off (its NumPy transitions) and for the features this loop does not take
(:func:`supported`: the living pensioners' dependants, the disability pensioners' own
mortality, partners from the families), each computed there by NumPy code.

A new input of a year's transitions must reach the loop too (a column, a field or an
argument below) or be declined by :func:`supported`; the test that compares the two
paths runs each variant of the pension's features in ``tests/test_cohort_kernels.py``,
so a new feature belongs among them.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..schemes.pension_rules import CAPS_SIZE
from . import cohort_kernels as kernels
from . import cohort_survivor_kernels as survivor_kernels
from .cohort_record import PensionRecord, record_year
from .cohort_state import PensionState, _step_death_rate
from .cohort_survivors import child_scale
from .cohort_transitions import (
    SHAPE_BANDS,
    career_caps,
    default_retirement,
    retirement_choice,
)
from .cohort_year import PensionYear

#: columns of the yearly numbers (``numbers[k, column]``)
(REVALUATION, INDEXATION, MINIMUM_PENSION, MAXIMUM_PENSION, RECOVERY_RATE,
 DISABILITY_SERVICE, PERSISTENCE, MINIMUM_SERVICE, REFUND_SHARE, CONTRIBUTION_RATE,
 CARE_CREDIT, REFERENCE_YEARS, CARES, SURVIVORS, SURVIVORS_ACTIVE, SPOUSE_SHARE,
 ORPHAN_SHARE, MAXIMUM_SHARE, ORPHAN_AGE_LIMIT, END_RATE, SURVIVOR_SERVICE, P_MALE,
 DUAL, PAYMENT_SPREAD, SPOUSE_AGE, BEST_YEARS, BEST_SD) = range(27)
#: the (age, sex) inputs of a year (``cells[k, field]``)
(DENSITY, EARNINGS, RETIREMENT_AGE, INCIDENCE, DEATH_RATE, NEWCOMERS, POPULATION,
 NEXT_POPULATION) = range(8)


def supported(years: list[PensionYear]) -> bool:
    """Whether :func:`project_years` takes these years: no dependants' supplements, the
    disability pensioners at the population's mortality, no partnership ends from the
    families and one set of partner weights for every year with survivors' rules."""
    weights = [y.survivors.partner_weights for y in years if y.survivors is not None]
    return (all(y.dependants is None and y.invalid_mortality == 1.0 for y in years)
            and all(y.survivors.partnering is None and not y.survivors.linked
                    and y.survivors.linked_children is None
                    for y in years if y.survivors is not None)
            and all(w is weights[0] for w in weights))


def project_years(state: PensionState, record: PensionRecord | None,
                  years: list[PensionYear], population: np.ndarray | None = None) -> None:
    """Run ``years`` (each a :class:`PensionYear`, :func:`supported`) through ``state``
    and keep each year's series in ``record``, as PensionState.step, PensionRecord.record
    and PensionState.advance do year by year; ``population`` (year, age, sex) of the
    cells (the record's). Without a record (the reconstruction of the past), nothing is
    kept."""
    if record is None:
        record = PensionRecord(0, (0, 0))
    y0 = years[0]
    # the one set of partner weights (supported), from any year with survivors' rules
    survivors = next((y.survivors for y in years if y.survivors is not None), None)
    weights = (np.zeros((2, 0, 0)) if survivors is None
               else np.ascontiguousarray(survivors.partner_weights, dtype=np.float64))
    first, last = survivor_kernels.partner_bands(weights) if weights.size else (
        np.zeros((2, 0), np.int64), np.zeros((2, 0), np.int64))
    none3 = np.zeros((0, 0, 0))
    _project(*state.arrays(), state.dependants, state.refunded, state.refund,
             state.top_class, state.top_invalid_class, state.top_pension_class,
             state.own_shape, SHAPE_BANDS,
             *_record_arrays(record), _numbers(years), _cells(years),
             _optional(years, lambda y: y.labour_target, (0, 0, 0, 0)),
             float(y0.labour_persistence), *_retirement(years),
             _optional(years, lambda y: y.covered_share, (0, 0, 0)),
             _optional(years, lambda y: y.care_probability, (0, 0)),
             bool(y0.care_insured_only),
             np.stack([np.asarray(y.formula, dtype=np.float64) for y in years]),
             float(y0.spread), _career_caps(years), weights, first, last,
             _optional(years, lambda y: None if y.survivors is None else y.survivors.asfr,
                       (0, 0)),
             _scales(years),
             _optional(years, lambda y: None if y.survivors is None else y.survivors.married,
                       (0, 0)),
             np.stack([np.asarray(y.open_weights, dtype=np.float64) for y in years]),
             np.zeros((0, 0, 0)) if population is None
             else np.ascontiguousarray(population, dtype=np.float64),
             none3 if record.floor is None else np.ascontiguousarray(record.floor,
                                                                     dtype=np.float64),
             np.zeros((0, 0)) if record.qualifies is None
             else np.ascontiguousarray(record.qualifies, dtype=np.float64))


def _career_caps(years: list[PensionYear]) -> np.ndarray:
    """(year, sex, age, width) the years' yearly caps of the ceiling (width 0 when no year
    has any)."""
    width = CAPS_SIZE if any(y.career_caps is not None for y in years) else 0
    return np.stack([career_caps(y, width) for y in years])


def _record_arrays(record: PensionRecord) -> tuple[np.ndarray, ...]:
    """The record's arrays in record_year's order (the optional ones empty)."""
    none = np.zeros((0, 0, 0))
    return (record.contributors, record.insured, record.beneficiaries, record.paid,
            record.refunds, record.active, record.pensioned, record.new_count,
            record.new_amount, record.service_awarded, record.branch_persons,
            record.branch_money, record.survivors, record.dependants,
            none if record.low is None else record.low[0],
            none if record.low is None else record.low[1],
            none if record.insured_unemployed is None else record.insured_unemployed)


def _numbers(years: list[PensionYear]) -> np.ndarray:
    """(year, column) each year's numbers (the columns above)."""
    out = np.zeros((len(years), BEST_SD + 1))
    for k, y in enumerate(years):
        row = out[k]
        row[REVALUATION], row[INDEXATION] = y.revaluation, y.indexation
        row[MINIMUM_PENSION], row[MAXIMUM_PENSION] = y.minimum_pension, y.maximum_pension
        row[RECOVERY_RATE] = y.recovery_rate
        row[DISABILITY_SERVICE] = y.disability_minimum_service
        row[PERSISTENCE], row[MINIMUM_SERVICE] = y.persistence, y.minimum_service
        row[REFUND_SHARE], row[CONTRIBUTION_RATE] = y.refund_share, y.contribution_rate
        row[CARE_CREDIT], row[REFERENCE_YEARS] = y.care_credit, y.reference_years
        row[CARES] = y.care_probability is not None and bool(y.care_probability.any())
        row[BEST_YEARS], row[BEST_SD] = y.best_years, y.best_years_sd
        rules = y.survivors
        if rules is None:
            continue
        row[SURVIVORS], row[SURVIVORS_ACTIVE] = 1.0, rules.active
        row[SPOUSE_SHARE], row[ORPHAN_SHARE] = rules.spouse_share, rules.orphan_share
        row[MAXIMUM_SHARE], row[ORPHAN_AGE_LIMIT] = rules.maximum_share, rules.orphan_age_limit
        row[END_RATE], row[SURVIVOR_SERVICE] = rules.end_rate, rules.minimum_service
        row[P_MALE] = rules.p_male
        row[DUAL] = rules.dual_entitlement
        row[PAYMENT_SPREAD] = rules.payment_spread if rules.dual_entitlement else 0.0
        row[SPOUSE_AGE] = rules.minimum_age
    return out


def _cells(years: list[PensionYear]) -> np.ndarray:
    """(year, field, age, sex) each year's cell inputs (the fields above)."""
    out = np.zeros((len(years), NEXT_POPULATION + 1, *np.shape(years[0].density)))
    for k, y in enumerate(years):
        out[k, DENSITY], out[k, EARNINGS] = y.density, y.earnings
        out[k, RETIREMENT_AGE], out[k, INCIDENCE] = y.retirement_age, y.incidence
        out[k, DEATH_RATE], out[k, NEWCOMERS] = _step_death_rate(y), y.newcomer_share
        if y.survivors is not None:
            out[k, POPULATION] = y.survivors.population
            out[k, NEXT_POPULATION] = y.survivors.next_population
    return out


def _optional(years: list[PensionYear], field, empty: tuple) -> np.ndarray:
    """An optional input of every year, stacked (an empty array where no year has it;
    zeros in a year without it, which the loop then does not read)."""
    values = [field(y) for y in years]
    present = [v for v in values if v is not None]
    if not present:
        return np.zeros(empty)
    shape = np.shape(present[0])
    return np.stack([np.zeros(shape) if v is None else np.asarray(v, dtype=np.float64)
                     for v in values])


def _retirement(years: list[PensionYear]) -> tuple[np.ndarray, np.ndarray]:
    """(year, age, sex) the retirement choice's probability and factor, empty where every
    year takes the default (kernels.retire applies it)."""
    if all(default_retirement(y) for y in years):
        return np.zeros((0, 0, 0)), np.zeros((0, 0, 0))
    chosen = [retirement_choice(y) for y in years]
    return (np.stack([np.asarray(p, dtype=np.float64) for p, _ in chosen]),
            np.stack([np.asarray(f, dtype=np.float64) for _, f in chosen]))


def _scales(years: list[PensionYear]) -> np.ndarray:
    """(year, child age) the survivors' rules' child scales (cohort_survivors.
    child_scale), padded with ones to the longest."""
    scales = [np.zeros(0) if y.survivors is None else child_scale(y.survivors)
              for y in years]
    out = np.ones((len(years), max((len(s) for s in scales), default=0)))
    for k, s in enumerate(scales):
        out[k, :len(s)] = s
    return out


@nb.njit(cache=True)
def _project(active, labour, credits, paid, recent, pensioners, pension, invalid,
             invalid_pension, invalid_credits, invalid_paid, invalid_recent, spouses,
             spouse_pension, orphans, orphan_pension, dependants, refunded, refund, top,
             top_invalid, top_pension, own_shape, shape_bands, contributors, insured,
             beneficiaries, paid_out, refunds, active_share, pensioned, new_count,
             new_amount_kept, service_awarded, branch_persons, branch_money, survivors,
             dependants_kept, low_share, low_gap, insured_unemployed, numbers, cells,
             labour_target, labour_persistence, probability, factor, covered,
             care_probability, care_insured_only, formula, spread, caps, weights, first, last,
             asfr, scales, married, open_weights, population, floor, qualifies):
    """The years of :func:`project_years`: each year PensionState.step's transitions,
    PensionRecord.record (where ``population`` has the year) and PensionState.advance's,
    in their order."""
    n_age, n_sex, n_s = pension.shape
    new_share, new_amount = np.empty((n_age, n_sex, n_s)), np.empty((n_age, n_sex, n_s))
    award_reference = np.zeros((n_age, n_sex, n_s))
    pensioned_by_class = pensioners.reshape((n_age, n_sex, n_s, 1))
    no_partnering, no_linked = np.zeros((0, 0)), np.zeros((0, 0, 0, 0))
    no_probability, no_target = np.zeros((0, 0)), np.zeros((0, 0, 0))
    stay, scaled = np.empty((n_age, n_sex)), np.empty((2, n_sex))
    deaths, money = np.zeros((n_age, n_sex)), np.zeros((n_age, n_sex))
    for k in range(numbers.shape[0]):
        row, cell = numbers[k], cells[k]
        minimum, maximum = row[MINIMUM_PENSION], row[MAXIMUM_PENSION]
        years_back, best_sd = np.int64(row[REFERENCE_YEARS]), row[BEST_SD]
        # PensionState.step
        kernels.revalued(credits, paid, recent, invalid_credits, invalid_paid,
                         invalid_recent, 1.0 + row[REVALUATION], top, top_invalid)
        kernels.indexed(pension, pensioned_by_class, row[INDEXATION], minimum, top_pension)
        kernels.indexed(invalid_pension, invalid, row[INDEXATION], minimum, top_invalid)
        dependants[:] = 0.0
        limit = np.int64(row[ORPHAN_AGE_LIMIT])
        if row[SURVIVORS]:
            survivor_kernels.survivors_year(spouses, spouse_pension, orphans,
                                            orphan_pension, row[INDEXATION], limit,
                                            no_partnering, row[END_RATE])
        kernels.disability(active, labour, credits, paid, recent, invalid, invalid_pension,
                           invalid_credits, invalid_paid, invalid_recent,
                           cell[RETIREMENT_AGE], row[RECOVERY_RATE], cell[INCIDENCE],
                           row[DISABILITY_SERVICE], formula[k], minimum, maximum, spread,
                           years_back, best_sd, caps[k], top, top_invalid)
        kernels.contribution_status(active, labour, credits, paid, recent, cell[DENSITY],
                                    row[PERSISTENCE],
                                    labour_target[k] if labour_target.size else no_target,
                                    labour_persistence, top)
        new_share[:] = 0.0
        new_amount[:] = 0.0
        retiring = probability[k] if probability.size else no_probability
        adjusted = factor[k] if factor.size else no_probability
        kernels.retire(active, labour, credits, paid, recent, pensioners, pension, invalid,
                       invalid_pension, invalid_credits, invalid_paid, invalid_recent,
                       refunded, refund, cell[RETIREMENT_AGE], retiring, adjusted,
                       row[MINIMUM_SERVICE], formula[k], minimum, maximum, spread,
                       years_back, best_sd, caps[k], row[REFUND_SHARE], new_share,
                       new_amount, award_reference, top, top_invalid, top_pension)
        if row[DUAL]:  # StateTransitions._own_shapes
            kernels.own_shapes(own_shape, new_share, award_reference, adjusted, formula[k],
                               minimum, maximum, spread, caps[k], shape_bands)
        if population.shape[0] > k:  # PensionRecord.record
            record_year(k, active, labour, pensioners, pension, invalid,
                        invalid_pension, spouses, spouse_pension, orphans, orphan_pension,
                        dependants, refunded, refund, population[k], cell[EARNINGS],
                        new_share, new_amount, floor, qualifies, contributors, insured,
                        beneficiaries, paid_out, refunds, active_share, pensioned,
                        new_count, new_amount_kept, service_awarded, branch_persons,
                        branch_money, survivors, dependants_kept, low_share, low_gap,
                        insured_unemployed, top, top_invalid, top_pension,
                        row[DUAL] != 0.0, row[PAYMENT_SPREAD], own_shape,
                        int(row[SPOUSE_AGE]))
        # PensionState.advance
        best = row[BEST_YEARS] != 0.0
        kernels.credit_year(active, credits, paid, recent, cell[EARNINGS],
                            row[CONTRIBUTION_RATE], top, best)
        if row[CARES]:
            kernels.care_credits(active, labour, credits, paid, recent, care_probability[k],
                                 cell[RETIREMENT_AGE], row[CARE_CREDIT], care_insured_only,
                                 top, best)
        dying = cell[DEATH_RATE]
        if row[SURVIVORS_ACTIVE]:
            deaths, money = survivor_kernels.survivor_deaths(
                active, credits, recent, pensioners, pension, invalid, invalid_pension,
                cell[POPULATION], dying, dying, cell[RETIREMENT_AGE], row[SURVIVOR_SERVICE],
                formula[k], minimum, maximum, spread, years_back, best_sd, caps[k], top,
                top_invalid,
                top_pension)
        for a in range(n_age):
            for s in range(n_sex):
                stay[a, s] = 1.0 - cell[NEWCOMERS, a, s]
        for s in range(n_sex):
            total = max(open_weights[k, 0, s] + open_weights[k, 1, s], 1e-300)
            scaled[0, s] = open_weights[k, 0, s] / total
            scaled[1, s] = open_weights[k, 1, s] / total
        kernels.age_state(active, labour, credits, paid, recent, pensioners, pension,
                          invalid, invalid_pension, invalid_credits, invalid_paid,
                          invalid_recent, spouses, spouse_pension, orphans, orphan_pension,
                          scaled, stay, cell[NEWCOMERS],
                          covered[k] if covered.size else no_probability,
                          top, top_invalid, top_pension)
        if row[SURVIVORS_ACTIVE]:
            survivor_kernels.add_survivors(
                spouses, spouse_pension, orphans, orphan_pension, deaths, money,
                cell[POPULATION], cell[NEXT_POPULATION], married[k], weights, first, last,
                asfr[k], scales[k, :limit], no_linked, row[P_MALE], row[SPOUSE_SHARE],
                row[ORPHAN_SHARE], row[MAXIMUM_SHARE], limit)
