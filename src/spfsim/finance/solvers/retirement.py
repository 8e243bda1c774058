"""The pensionable-age path that closes a deficit: the smallest final age whose actuarial
balance reaches a target, found by bisection over the number of one-year rises."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .common import SolverResult

#: Effective calendar year -> age, or by sex {"male": {...}, "female": {...}}.
Schedule = dict[int, int] | dict[str, dict[int, int]]


def _age_schedule(increments: int, start_year: int, step_years: int,
                  base_age: int | Mapping[str, int],
                  before: Mapping[int, int] | None) -> Schedule:
    """Effective calendar year -> age: ``before`` (default {start_year - 1: base_age}), then
    one more year of age at start_year, start_year + step_years, ... (``increments`` rises)."""
    def one(base: int) -> dict[int, int]:
        path = dict(before) if before is not None else {start_year - 1: base}
        path.update({start_year + j * step_years: base + j + 1 for j in range(increments)})
        return dict(sorted(path.items()))

    if isinstance(base_age, Mapping):
        return {sex: one(int(age)) for sex, age in base_age.items()}
    return one(int(base_age))


@dataclass
class _AgePath:
    """The schedules tried by :func:`retirement_age_path` and their balances."""

    balance_of: Callable[[Schedule], float]
    start_year: int
    step_years: int
    base_age: int | Mapping[str, int]
    before: Mapping[int, int] | None
    evaluated: dict[int, float] = field(default_factory=dict)

    @property
    def base_by(self) -> dict[str, int]:
        if isinstance(self.base_age, Mapping):
            return {sex: int(age) for sex, age in self.base_age.items()}
        return {"all": int(self.base_age)}

    def schedule(self, n: int) -> Schedule:
        return _age_schedule(n, self.start_year, self.step_years, self.base_age, self.before)

    def balance(self, n: int) -> float:
        if n not in self.evaluated:
            self.evaluated[n] = float(self.balance_of(self.schedule(n)))
        return self.evaluated[n]

    def final_age(self, n: int) -> int | dict[str, int]:
        if isinstance(self.base_age, Mapping):
            return {sex: age + n for sex, age in self.base_by.items()}
        return self.base_by["all"] + n

    def year_of(self, n: int) -> int:
        """The year the n-th rise takes effect."""
        return self.start_year + (n - 1) * self.step_years

    def result(self, n: int | None, ok: bool, message: str, goal: float) -> SolverResult:
        """The result at n rises (None: the best evaluated), with every evaluated point."""
        points = dict(sorted(self.evaluated.items()))
        values = np.array(list(points.values()))
        monotone = bool(np.all(np.diff(values) >= -1e-12))
        if not monotone:
            message += ("; caution: the evaluated balances do not rise monotonically with the "
                        "age, so a smaller age may also meet the target")
        pick = n if n is not None else max(points, key=points.get)
        notes = getattr(self.balance_of, "notes", None)
        if notes:
            message += "; " + "; ".join(notes)
        solution = {"final_age": self.final_age(pick), "increments": pick,
                    "schedule": self.schedule(pick), "balance": points[pick]}
        constraints = {"balance": points[pick], "target": goal,
                       "margin": points[pick] - goal, "evaluated": points,
                       "monotone": monotone}
        return SolverResult(ok, message, solution, constraints, float(pick))


def retirement_age_path(balance_of: Callable[[Schedule], float], *, start_year: int,
                        base_age: int | Mapping[str, int], max_age: int | Mapping[str, int],
                        step_years: int = 1, target: float = 0.0,
                        deficit: float | None = None,
                        before: Mapping[int, int] | None = None) -> SolverResult:
    """The smallest final pensionable age whose actuarial balance reaches a target, for an age
    rising by one year every ``step_years`` years from ``start_year``.

    With n one-year rises the schedule (effective calendar year -> age, the form of a reform
    file's ``retirement_age``) is ``{start_year - 1: base_age, start_year: base_age + 1,
    start_year + step_years: base_age + 2, ..., start_year + (n-1) step_years: base_age +
    n}``; ``before`` replaces the first entry by a whole earlier schedule (years before
    start_year). ``base_age`` (and ``max_age``) may be given by sex as ``{"male": 62,
    "female": 60}``: both sexes then rise by the same n years and ``balance_of`` receives
    ``{sex: schedule}``. The final age is ``base_age + n``, n in ``0 .. max_age -
    base_age`` (the smallest room over the sexes).

    ``balance_of(schedule) -> float`` is the actuarial balance (fraction of payroll) under
    that schedule, e.g. a :class:`~spfsim.finance.ModelBalance`. The target is ``target``
    (default 0) or, with ``deficit`` (fraction of payroll), the balance at n = 0 plus
    ``deficit``: the path must close that deficit. The balance rises with the age in
    practice; the solver checks the ends of the bracket (n = 0 and n = max) and bisects over
    the integers, so it needs about log2(max - base) + 2 evaluations. Every evaluated point
    is reported.

    Returns a :class:`SolverResult` with ``solution``: ``final_age`` (int, or by sex),
    ``increments`` n, ``schedule``, ``balance``; ``constraints``: ``balance``, ``target``,
    ``margin`` (balance - target), ``evaluated`` ({n: balance}, every call),
    ``monotone`` (the evaluated balances do not fall as n rises); ``objective``: n, the
    number of years added. Infeasible when even ``max_age`` misses the target: the message
    gives the best balance found.
    """
    if int(step_years) != step_years or step_years < 1:
        raise ValueError(f"step_years must be a whole number >= 1, got {step_years!r}")
    path = _AgePath(balance_of, int(start_year), int(step_years), base_age, before)
    base_by = path.base_by
    max_by = ({sex: int(max_age[sex]) for sex in base_by} if isinstance(max_age, Mapping)
              else dict.fromkeys(base_by, int(max_age)))
    room = min(max_by[sex] - base_by[sex] for sex in base_by)
    if room < 0:
        raise ValueError(f"max_age {max_age!r} is below base_age {base_age!r}")
    balance, final_age = path.balance, path.final_age
    goal = float(target) if deficit is None else balance(0) + float(deficit)
    if balance(0) >= goal:
        return path.result(0, True, f"the base age {final_age(0)} already meets the target "
                                    f"{goal:.6g} (balance {balance(0):.6g})", goal)
    if balance(room) < goal:
        best = max(path.evaluated.values())
        return path.result(None, False, (
            f"infeasible: even the maximum age {final_age(room)} (reached in "
            f"{path.year_of(room)}) gives a balance of {balance(room):.6g}, short of the "
            f"target {goal:.6g} by {goal - balance(room):.6g}; the best balance evaluated is "
            f"{best:.6g}"), goal)
    low, high = 0, room  # balance(low) < goal <= balance(high)
    while high - low > 1:
        middle = (low + high) // 2
        if balance(middle) >= goal:
            high = middle
        else:
            low = middle
    return path.result(high, True, (
        f"smallest final age {final_age(high)} (reached in {path.year_of(high)}): balance "
        f"{balance(high):.6g} >= target {goal:.6g}; one year less ({final_age(high - 1)}) "
        f"gives {balance(high - 1):.6g}"), goal)
