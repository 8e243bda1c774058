"""The contributory pension's rules are written once (schemes.pension_rules): the cohort
engine's array functions (schemes.db_pension) and the micro kernel apply the same scalar
functions. These fast property tests pin what remains written twice: the broadcast over
cells against the scalar rule, and the kernel's gathering of a person's reference credits
against the cohort engine's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfsim.engine.micro import careers as Y
from spfsim.schemes import db_pension as dbp
from spfsim.schemes import pension_rules as rules

money = st.floats(0.0, 1e7, allow_nan=False)
rate = st.floats(0.0, 0.1, allow_nan=False)
years = st.integers(0, 60)


def _py(rule):
    """The rule's Python function (the same source the JIT compiles)."""
    return getattr(rule, "py_func", rule)


@settings(max_examples=60, deadline=None)
@given(reference=money, service=years, future=st.integers(0, 40), factor=st.floats(0, 2),
       minimum=money, maximum=money, accrual=rate, above=rate, band=st.integers(0, 40))
def test_cells_apply_the_scalar_rules(reference, service, future, factor, minimum, maximum,
                                      accrual, above, band):
    """db_pension's array functions (the cohort engine) give the scalar rule's value, the
    micro kernel's, bit for bit, whatever the broadcast."""
    formula = rules.formula(accrual, above, band)
    awards = dbp.pension_at_award(accrual, np.array([reference, reference]), minimum,
                                  maximum, service, above, band, factor)
    expected = _py(rules.old_age_award)(reference, service, factor, minimum, maximum,
                                        formula, 0.0, rules.NO_CAPS)
    assert awards.tolist() == [expected, expected]
    assert rules.old_age_award(reference, service, factor, minimum, maximum, formula,
                               0.0, rules.NO_CAPS) == expected
    assert dbp.disability_pension(accrual, reference, service, future, minimum, maximum,
                                  above, band) == rules.disability_award(
        reference, service, future, minimum, maximum, formula, 0.0, rules.NO_CAPS)
    assert dbp.accrual_factor(service, accrual, above, band) == rules.accrual(
        service, accrual, above, band)
    assert dbp.insurable(reference, minimum, maximum) == rules.insurable_earnings(
        reference, minimum, maximum)
    assert dbp.pension_in_payment(reference, factor - 1.0, minimum) == rules.in_payment(
        reference, factor - 1.0, minimum)


@settings(max_examples=60, deadline=None)
@given(credits=money, service=st.integers(0, 60), kept=st.integers(0, 5),
       years_=st.integers(0, 8), data=st.data())
def test_kernel_reference_credits_are_the_cohort_engines(credits, service, kept, years_,
                                                         data):
    """The micro kernel sums a person's last credited years itself (its state): the
    reference credits it gets are those of schemes.db_pension.reference_credits."""
    recent = np.array(data.draw(st.lists(money, min_size=kept, max_size=kept)),
                      dtype=float).reshape(1, kept)
    got = Y._reference(np.array([credits]), recent, 0, np.uint8(service), years_)
    counted = min(years_, kept)
    expected = dbp.reference_credits(credits, recent[0, :counted].sum(), service, years_)
    assert got == pytest.approx(float(expected), rel=1e-15, abs=0.0)


def test_survivor_ceiling_and_orphans_by_hand():
    assert rules.survivor_scale(1.2, 1.0) == pytest.approx(1.0 / 1.2)
    assert rules.survivor_scale(0.8, 1.0) == 1.0
    assert rules.survivor_scale(5.0, 0.0) == 1.0  # no ceiling
    assert rules.orphan_pension_ends(18, 17)
    assert not rules.orphan_pension_ends(17, 17)
    asfr = np.zeros(50)
    asfr[30] = 0.1
    assert rules.orphan_probability(asfr, 33, 2) == pytest.approx(0.1)  # born at 30
    assert rules.orphan_probability(asfr, 33, 40) == 0.0  # before the mother's birth
    np.testing.assert_array_equal(dbp.expected_orphans(asfr, np.array([33, 31]), 3),
                                  [[0, 0, 0.1, 0], [0.1, 0, 0, 0]])


def test_qualification_and_refunds_by_hand():
    assert rules.qualified_insured(40, 60, 5, 5)
    assert not rules.qualified_insured(60, 60, 30, 5)
    assert not rules.qualified_insured(40, 60, 4, 5)
    assert rules.leaves_without_pension(60, 60, 14, 15)
    assert not rules.leaves_without_pension(60, 60, 15, 15)
    assert rules.old_age_qualifies(60, 60, 15, 15)
    assert not rules.old_age_qualifies(59, 60, 40, 15)
    assert rules.refund(0.5, 900.0) == 450.0
    np.testing.assert_array_equal(dbp.leaves_without_pension(np.array([59, 60, 60]), 60,
                                                             np.array([3, 3, 20]), 15),
                                  [False, True, False])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), rows=st.integers(1, 4), columns=st.integers(1, 40))
def test_distinct_columns_rebuild_the_array(data, rows, columns):
    """The Python path of the cells' rules (JIT off) applies a rule once per distinct cell:
    the distinct columns, indexed by ``where``, give back every column, and none repeats."""
    values = st.sampled_from([0.0, 1.0, -2.5, 3.0])  # few values, so that columns repeat
    a = np.array(data.draw(st.lists(st.lists(values, min_size=columns, max_size=columns),
                                    min_size=rows, max_size=rows)))
    distinct, where = rules._distinct_columns(a)
    assert np.array_equal(distinct[:, where], a)
    assert len({tuple(c) for c in distinct.T}) == distinct.shape[1]


def test_cells_give_each_cell_its_own_value():
    """Repeated and distinct cells in one broadcast: every cell gets the scalar rule's
    value (whichever path, compiled or not, runs the cells)."""
    reference = np.array([[100.0, 200.0, 100.0], [0.0, 200.0, 300.0]])
    service = np.array([[10.0], [20.0]])
    formula = rules.formula(0.02, 0.0, 0.0)
    awards = rules.cells(rules.old_age_award)(reference, service, 1.0, 0.0, 1e9, 0.0,
                                              formula=formula)
    expected = [[_py(rules.old_age_award)(r, s[0], 1.0, 0.0, 1e9, formula, 0.0, rules.NO_CAPS)
                 for r in row] for row, s in zip(reference, service, strict=True)]
    assert awards.tolist() == expected
    # credits E over n years at 2 % a year: 0.02 E, whatever n
    assert awards.tolist() == [[2.0, 4.0, 2.0], [0.0, 4.0, 6.0]]
