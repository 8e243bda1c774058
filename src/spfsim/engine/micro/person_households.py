"""Whole households cloned from a person file with household columns (engine.micro.persons).

Persons of a household survey come in households, so the file is cloned household by
household, never person by person: a household's members keep their links (partner,
mother, father) in every clone. The population by age and sex then cannot be set cell by
cell as for a file of persons; instead the households' weights are calibrated to the base
population (a household's weight moves all its members at once):

- **Calibration** by raking (the exponential distance of Deville and Saerndal 1992, as
  survey offices' integrated household-person weighting does): the household weights
  ``d`` become ``w = d exp(x lambda)``, ``x`` a household's members in each 5-year age
  group by sex (0-4, ..., 95-99, 100+), with ``lambda`` solving ``sum_h w_h x_h = T``, the
  base population of the groups. It is the minimum of a convex function, found by
  scipy's trust-region Newton method. Groups without a record in the file are left out
  and filled by synthetic persons, as cells are for a file of persons; within a group the
  single ages follow the file.
- **Integer clones**: household h is cloned ``floor(e_h)`` times, once more with the chance
  of the fraction, where ``e_h`` is ``w_h`` scaled so that the expected persons are the
  run's persons in the calibrated groups; the draw is keyed by the household's place in
  the file (rng.HOUSEHOLD_CLONES), so a reform run sees the same clones.

The engine's families hold couples and the children living with a parent (a partnered
person has left the parental home: engine.micro.families). A member whom these links do
not place in the household of the file (a lodger, a parent living with a married child)
lives in a household of their own; :func:`records_apart` counts them (the attribute
``person_file_records_apart``).
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from ... import rng
from ...errors import SpfsimError
from .persons import PersonRecords

GROUP_YEARS = 5  # calibration age groups: 0-4, ..., 95-99 and 100+
N_GROUPS = 100 // GROUP_YEARS + 1
TOLERANCE = 1e-6  # calibrated groups' largest relative gap to their targets


def age_groups(age: np.ndarray) -> np.ndarray:
    """The calibration group (0..N_GROUPS - 1) of completed ages 0..100."""
    return np.minimum(np.asarray(age) // GROUP_YEARS, N_GROUPS - 1)


def group_population(population: np.ndarray) -> np.ndarray:
    """A population by (age 0..100, sex) summed into (calibration group, sex)."""
    grouped = np.zeros((N_GROUPS, 2))
    np.add.at(grouped, age_groups(np.arange(population.shape[0])), population)
    return grouped


def household_members(records: PersonRecords) -> list[np.ndarray]:
    """Each household's records, in file order (households in order of first appearance)."""
    order = np.argsort(records.household, kind="stable")
    bounds = np.cumsum(np.bincount(records.household))
    return np.split(order, bounds[:-1])


def calibrate(records: PersonRecords, population: np.ndarray) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """Household weights calibrated to ``population`` (age 0..100, sex) by group and sex.

    Returns the weights (household,), scaled so that their persons in the calibrated groups
    add up to 1, and the calibrated (group, sex) mask: groups with a record in the file."""
    n_households = int(records.household.max()) + 1
    cells = age_groups(records.age) * 2 + records.sex
    x = np.zeros((n_households, N_GROUPS * 2))
    np.add.at(x, (records.household, cells), 1.0)
    covered = x.sum(axis=0) > 0
    target = group_population(population).ravel()
    x, target = x[:, covered], target[covered]
    if target.sum() <= 0:
        raise SpfsimError(f"{records.path}: the person file's ages have no base population "
                          "to weight its households to")
    target = target / target.sum()
    design = np.zeros(n_households)
    np.maximum.at(design, records.household, records.weight)  # one weight a household
    design /= design @ x.sum(axis=1)

    def dual(lam):
        w = design * np.exp(np.clip(x @ lam, -700.0, 700.0))
        return w.sum() - target @ lam, x.T @ w - target, (x.T * w) @ x

    solution = scipy.optimize.minimize(
        lambda lam: dual(lam)[0], np.zeros(x.shape[1]), jac=lambda lam: dual(lam)[1],
        hess=lambda lam: dual(lam)[2], method="trust-exact", options={"gtol": 1e-12})
    weights = design * np.exp(np.clip(x @ solution.x, -700.0, 700.0))
    gap = np.abs(x.T @ weights - target) / target
    if gap.max() > TOLERANCE:
        worst = np.flatnonzero(covered)[int(np.argmax(gap))]
        group, sex = divmod(int(worst), 2)
        ages = (f"{group * GROUP_YEARS}-{group * GROUP_YEARS + GROUP_YEARS - 1}"
                if group < N_GROUPS - 1 else "100+")
        raise SpfsimError(
            f"{records.path}: the households cannot be weighted to the base population "
            f"by age group and sex: ages {ages}, {('male', 'female')[sex]}, stay "
            f"{gap.max():.1%} away from it (households that mix age groups in fixed "
            "proportions cannot reach every group's share; add households or records)")
    return weights, covered.reshape(N_GROUPS, 2)


def clone_counts(weights: np.ndarray, persons: float, seed: int) -> np.ndarray:
    """Integer clones of each household, ``persons`` persons expected in all (``weights``
    of :func:`calibrate`: every member is in a calibrated group), the fraction drawn per
    household (rng.HOUSEHOLD_CLONES, keyed by its place in the file)."""
    expected = weights * persons
    whole = np.floor(expected)
    u = rng.uniforms(seed, rng.HOUSEHOLD_CLONES, np.arange(len(weights), dtype=np.int64), 0)
    return (whole + (u < expected - whole)).astype(np.int64)


def at_home(records: PersonRecords) -> np.ndarray:
    """Whether each record lives with a parent (engine.micro.families: a person with a
    parent in the household who has no partner; a partnered person has left home)."""
    return ((records.mother >= 0) | (records.father >= 0)) & (records.partner < 0)


def _reference(records: PersonRecords, home: np.ndarray, i: int) -> int:
    """The record naming record i's household in the engine's families (families.households:
    up through the parents one lives with, then the couple's smaller one)."""
    top = i
    while home[top]:
        top = records.mother[top] if records.mother[top] >= 0 else records.father[top]
    return min(top, records.partner[top]) if records.partner[top] >= 0 else top


def records_apart(records: PersonRecords) -> int:
    """Records that the engine's families do not place in their file household: in each
    household, those outside its largest household by the links."""
    home = at_home(records)
    apart = 0
    for members in household_members(records):
        references = [_reference(records, home, int(i)) for i in members]
        apart += len(members) - max(references.count(r) for r in set(references))
    return apart
