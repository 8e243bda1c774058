"""Per-scheme yearly results that every engine returns, before the fund is rolled forward."""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

# the branches of a contributory pension, in the order of the branch arrays
BRANCHES = ("old_age", "disability", "survivors", "dependants", "refunds")
SURVIVOR_KINDS = ("spouse", "orphan")  # the survivors' branch's pensions
# the dependants' branch's supplements (of living pensioners: schemes.dependants)
DEPENDANT_KINDS = ("dependent_spouse", "dependent_child")


@dataclass
class SchemeFlows:
    """One scheme's flows over the projection years (currency per year, persons).

    Arrays: ``contributors`` and ``beneficiaries`` (year, age, sex); ``new_beneficiaries``
    and ``new_benefit_amount`` (year, sex), the latter the total annual amount of new awards;
    ``service_awarded`` (year, sex, credited years) the new pensions by credited service;
    the others (year,).

    ``contributions_by_age`` and ``benefits_by_age`` (year, age, sex) split the year's
    contributions (worker and employer, not the state's) and benefits by the age and sex
    of whoever pays or receives them (a survivor's pension by the survivor's): the cash
    flows of each birth cohort that the equity measures (spfsim.equity) need. They add up
    to ``contribution_income`` and ``benefit_expenditure``.
    """

    scheme_id: str
    kind: str
    contributors: np.ndarray
    beneficiaries: np.ndarray
    new_beneficiaries: np.ndarray
    new_benefit_amount: np.ndarray
    insured_earnings: np.ndarray
    contribution_income: np.ndarray
    benefit_expenditure: np.ndarray
    admin_expenditure: np.ndarray
    state_subsidy_rate: np.ndarray
    initial_reserve: float
    service_awarded: np.ndarray  # (year, sex, credited years): new pensions by service
    expenditure_by_sex: np.ndarray | None = None  # (year, sex) benefit expenditure
    state_contribution: np.ndarray | None = None  # (year,) the state's contribution
    # cohort engine, contributory pension: what non-contributory rules need to know
    active_share: np.ndarray | None = field(default=None, repr=False)  # (year, age, sex)
    # (year, age, sex) share of each cell never covered and below the pensionable age:
    # outside the members, in the labour market all the same (None: nobody)
    never_covered_share: np.ndarray | None = field(default=None, repr=False)
    # (year, age, sex) shares of each cell with an old-age or disability pension; with a
    # top-up floor, with one below the floor and their summed gap to it (per capita)
    pensioner_share: np.ndarray | None = field(default=None, repr=False)
    low_pension_share: np.ndarray | None = field(default=None, repr=False)
    low_pension_gap: np.ndarray | None = field(default=None, repr=False)
    # (year, age, sex) the part of each cell's unemployed with unemployment insurance's
    # qualifying period (engine.cohort.PensionState.labour, by service and contributions)
    insured_unemployed_fraction: np.ndarray | None = field(default=None, repr=False)
    # contributory pension: beneficiaries (year, age, sex, branch) and expenditure (year,
    # branch) of each branch (BRANCHES)
    branch_beneficiaries: np.ndarray | None = field(default=None, repr=False)
    # contributory pension: survivors' pensions in payment (year, age, sex, SURVIVOR_KINDS)
    survivors_by_kind: np.ndarray | None = field(default=None, repr=False)
    # contributory pension: dependants' supplements in payment (year, age, sex,
    # DEPENDANT_KINDS; a spouse counted in her own pension's branch under dual
    # entitlement is not counted here)
    dependants_by_kind: np.ndarray | None = field(default=None, repr=False)
    branch_expenditure: np.ndarray | None = field(default=None, repr=False)
    # (year, age, sex): insured earnings (contributory pension), contributions, benefits
    insured_by_age: np.ndarray | None = field(default=None, repr=False)
    contributions_by_age: np.ndarray | None = field(default=None, repr=False)
    benefits_by_age: np.ndarray | None = field(default=None, repr=False)
    # the part of benefits_by_age paid as lump sums (refunds), not as pensions
    lump_sums_by_age: np.ndarray | None = field(default=None, repr=False)
    # (year, age, sex) old-age pensioners among the contributors (working_pensioners)
    working_pensioners: np.ndarray | None = field(default=None, repr=False)

    def pensions_by_person_age(self) -> tuple[np.ndarray, np.ndarray]:
        """A contributory pension's periodical pensions (year, age, sex; currency per year:
        benefits less lump-sum refunds) and the pensions in payment of every branch but
        refunds (year, age, sex; a survivor or a dependant with her own pension counted
        twice, unless only the higher is paid)."""
        assert self.benefits_by_age is not None
        assert self.branch_beneficiaries is not None
        lump_sums = 0.0 if self.lump_sums_by_age is None else self.lump_sums_by_age
        refunds = BRANCHES.index("refunds")
        pensioners = sum_inner(self.branch_beneficiaries, -1) \
            - self.branch_beneficiaries[..., refunds]
        return self.benefits_by_age - lump_sums, pensioners


def sum_inner(values: np.ndarray, axis: int) -> np.ndarray:
    """``values.sum(axis=axis)`` for an axis followed by at most a short one (ages before
    the sexes, a cell's branches), each sum added in the axis's order, NumPy's order
    here: NumPy reduces such an axis a few numbers at a time, ten times slower than
    one compiled loop (the NumPy sum itself with Numba's JIT off)."""
    if nb.config.DISABLE_JIT or values.shape[axis] == 0:
        return values.sum(axis=axis)
    axis %= values.ndim
    shape = values.shape
    outer = int(np.prod(shape[:axis]))
    inner = int(np.prod(shape[axis + 1:]))
    out = _sum_middle(np.ascontiguousarray(values, dtype=np.float64).reshape(
        outer, shape[axis], inner))
    return out.reshape(shape[:axis] + shape[axis + 1:])


@nb.njit(cache=True)
def _sum_middle(values):
    """(outer, n, inner) -> (outer, inner): the sums over n, in n's order."""
    n_outer, n, n_inner = values.shape
    out = np.empty((n_outer, n_inner))
    for o in range(n_outer):
        for i in range(n_inner):
            total = values[o, 0, i]
            for j in range(1, n):
                total += values[o, j, i]
            out[o, i] = total
    return out
