"""Solvers for financing policy: the contribution schedule that keeps a reserve ratio
(:mod:`.schedule`), the mix of contribution rate and state transfer that closes the
actuarial balance at the least dispersion of cohort returns (:mod:`.state_transfer`), and
the pensionable-age path that closes a deficit (:mod:`.retirement`, with the balance of a
scheme re-projected under an age path in :mod:`.balance`), and the rate that keeps the
probability of depletion over a stochastic projection's draws under a target
(:mod:`.depletion`).

Every array holds one value per projection year, shape ``(n_years,)``; money is currency per
year paid at mid-year, reserves are held at the end of the year, rates are fractions of
insured earnings (0.12 = 12 %), reserve ratios are in years of expenditure (1.0 = 100 %).
Timing, discounting and the fund roll-forward are those of :mod:`spfsim.finance.methods`
and :func:`spfsim.finance.fund.roll_forward`::

    F[t] = F[t-1] (1 + i[t]) + (C + G - B - E)[t] (1 + i[t])^(1/2)

The reserve is affine in the contribution rates, and the actuarial balance
(:func:`~spfsim.finance.sustainability.summarized_rates`) is affine in the rates and in a
state transfer proportional to expenditure; the solvers build their linear constraints from
projections of unit schedules (``project_with_rate``), not from a re-derivation of the
roll-forward.

Each solver returns a :class:`SolverResult`: ``success``, a ``message`` that says, when no
solution exists, which constraint cannot be met and by how much, the ``solution`` (decision
values), the ``constraints`` (their values and margins) and the ``objective``.
"""

from .balance import ModelBalance, model_balance_of, scheme_balance
from .common import SolverResult
from .depletion import rate_for_depletion_probability
from .retirement import Schedule, retirement_age_path
from .schedule import contribution_schedule
from .state_transfer import rate_and_state_transfer

__all__ = ["ModelBalance", "Schedule", "SolverResult", "contribution_schedule",
           "model_balance_of", "rate_and_state_transfer", "rate_for_depletion_probability",
           "retirement_age_path", "scheme_balance"]
