"""What every solver returns, and the periods of a stepwise rate schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Slack (in reserve-ratio units, years of expenditure) the LP keeps above the target so
#: that the roll-forward of the solution meets the target despite solver round-off.
LP_GUARD = 1e-10
HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass
class SolverResult:
    """What a solver found.

    ``success``: a solution meeting every constraint was found. ``message``: how it went; on
    failure it names the constraint that cannot be met and by how much (e.g. the best
    achievable minimum reserve ratio against the target). ``solution``: the decision values
    (name -> value; on failure, the best attempt where there is one). ``constraints``: name
    -> value (float or per-year array) of each constraint and its margin (positive = met
    with room). ``objective``: the value minimised (NaN when there is none).
    """

    success: bool
    message: str
    solution: dict[str, Any] = field(default_factory=dict)
    constraints: dict[str, Any] = field(default_factory=dict)
    objective: float = float("nan")


def period_starts(n: int, step_every: int) -> np.ndarray:
    """0-based indices 0, k, 2k, ... of the periods of ``step_every`` = k years in n years."""
    if int(step_every) != step_every or step_every < 1:
        raise ValueError(f"step_every must be a whole number of years >= 1, got {step_every!r}")
    return np.arange(0, n, int(step_every))


def period_matrix(n: int, starts: np.ndarray) -> np.ndarray:
    """(year, period) 0/1 matrix: 1 where the year lies in the period starting at starts[k]
    and ending before starts[k+1]."""
    index = np.searchsorted(starts, np.arange(n), side="right") - 1
    return (index[:, None] == np.arange(starts.size)[None, :]).astype(float)
