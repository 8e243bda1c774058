"""Life-contingent actuarial functions of a one-dimensional life table: annuities,
insurances, pure endowments and commutation columns.

They use the table's l(x) at integer ages, extended beyond omega with the open group's
constant force m(omega), l(omega + t) = l(omega) exp(-m(omega) t); within a year of age
below omega l is interpolated linearly (uniform distribution of deaths, UDD), within the
open group exponentially (constant force). See docs/lifetables.md for formulas and
references (Bowers et al. 1997, Actuarial Mathematics, 2nd ed.).
:class:`~spfsim.demography.lifetable.LifeTable` has them as methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

Interest = float | ArrayLike


def _geometric_tail(block: float, factor: float, n_blocks: float) -> float:
    """sum_{k < n_blocks} block factor^k (n_blocks may be infinite)."""
    if block == 0.0 or n_blocks <= 0:
        return 0.0
    if math.isinf(n_blocks):
        return math.inf if factor >= 1.0 else block / (1.0 - factor)
    if factor == 1.0:
        return block * n_blocks
    return block * (1.0 - factor ** n_blocks) / (1.0 - factor)


@dataclass(frozen=True)
class Commutation:
    """Commutation columns at a constant annual effective rate ``interest``, ages 0..omega.

    ``Dx = v^x l(x)``, ``Nx = sum_{y >= x} D(y)``, ``Cx = v^(x+1) d(x)``,
    ``Mx = sum_{y >= x} C(y)``, where the sums run over the table extended beyond omega with
    the open group's constant force (so ``N`` and ``M`` at omega include the geometric tail,
    ``C`` at omega is the first year's deaths of that extension, and N(x) = D(x) + N(x+1),
    M(x) = C(x) + M(x+1) for x < omega). Then ä(x) = N(x)/D(x), A(x) = M(x)/D(x),
    n|ä(x) = N(x+n)/D(x), nE(x) = D(x+n)/D(x), and M(x) = D(x) - d N(x).
    """

    interest: float
    ages: np.ndarray
    Dx: np.ndarray
    Nx: np.ndarray
    Cx: np.ndarray
    Mx: np.ndarray

class LifeContingencies:
    """The actuarial methods of :class:`~spfsim.demography.lifetable.LifeTable` (which
    provides ``lx``, ``mx``, ``omega``, ``survival`` and the other columns they read)."""

    @staticmethod
    def _rates(interest: Interest) -> np.ndarray:
        rates = np.atleast_1d(np.asarray(interest, dtype=float))
        if rates.ndim != 1 or rates.size == 0:
            raise ValueError("interest must be a number or a non-empty 1-D path of annual "
                             "rates")
        if np.any(rates <= -1.0):
            raise ValueError("interest rates must be > -1")
        return rates

    @staticmethod
    def _discount(rates: np.ndarray, t: np.ndarray) -> np.ndarray:
        """v(t) = prod_{k < floor t} (1 + i_k)^-1 (1 + i_floor(t))^-(t - floor t); the path's
        last rate holds beyond its end."""
        t = np.asarray(t, dtype=float)
        n = int(np.ceil(t.max())) + 2 if t.size else 1
        path = np.concatenate([rates, np.full(max(n - rates.size, 0), rates[-1])])
        log_v = -np.log1p(path)
        cum = np.concatenate([[0.0], np.cumsum(log_v)])
        k = np.floor(t).astype(int)
        return np.exp(cum[k] + (t - k) * log_v[k])

    @staticmethod
    def _check_int(name: str, value: float, minimum: int) -> int:
        if value != int(value) or value < minimum:
            raise ValueError(f"{name} must be an integer number of years >= {minimum}")
        return int(value)

    def _annuity(self, x: int, rates: np.ndarray, m: int, deferment: int, term: int | None,
                 offset: float, second: LifeContingencies | None, y: int | None) -> float:
        """(1/m) sum_j v(t_j) S(t_j), t_j = deferment + offset + j/m, t_j < deferment + term
        (+ offset); S the survival from x (times that from y for a joint life)."""
        lives = [(self, x)] + ([(second, y)] if second is not None else [])
        for table, age in lives:
            if table.survival(np.array([age]))[0] <= 0:
                raise ValueError(f"no survivors at age {age}")
        # from year `horizon` on, survival and discount both fall by a constant factor a year
        horizon = max([deferment, rates.size] + [max(tab.omega - a, 0) for tab, a in lives])
        end = math.inf if term is None else deferment + term
        explicit_end = min(end, horizon)
        j = np.arange(max(explicit_end - deferment, 0) * m)
        t = deferment + offset + j / m

        def pv(times: np.ndarray) -> float:
            s = np.ones_like(times)
            for table, age in lives:
                s = s * table.survival(age + times) / table.survival(np.array([age]))[0]
            return float(np.sum(self._discount(rates, times) * s)) / m

        total = pv(t) if t.size else 0.0
        if end > explicit_end:
            start = max(horizon, deferment)
            block = pv(start + offset + np.arange(m) / m)
            factor = 1.0 / (1.0 + rates[-1])
            for table, _ in lives:
                factor *= math.exp(-float(table.mx[table.omega]))
            total += _geometric_tail(block, factor, end - start)
        return total

    def _annuity_vectorised(self, x: ArrayLike, interest: Interest, frequency: int,
                            deferment: float, term: float | None, offset_periods: int,
                            second: LifeContingencies | None, second_age: ArrayLike | None):
        self._require_1d()
        if second is not None:
            second._require_1d()
        m = self._check_int("frequency", frequency, 1)
        n = self._check_int("deferment", deferment, 0)
        tm = None if term is None else self._check_int("term", term, 0)
        rates = self._rates(interest)
        xs = np.asarray(x)
        ys = xs if second_age is None else np.asarray(second_age)
        xs, ys = np.broadcast_arrays(xs, ys)
        out = np.empty(xs.shape)
        for idx in np.ndindex(xs.shape):
            age = self._check_int("x", xs[idx], 0)
            age2 = None if second is None else self._check_int("second_age", ys[idx], 0)
            out[idx] = self._annuity(age, rates, m, n, tm, offset_periods / m, second, age2)
        return out[()] if out.ndim == 0 else out

    # ------------------------------------------------------------------ annuities

    def annuity_due(self, x: ArrayLike, interest: Interest, *, frequency: int = 1,
                    deferment: int = 0, term: int | None = None,
                    second: LifeContingencies | None = None,
                    second_age: ArrayLike | None = None) -> float | np.ndarray:
        """Present value at exact age x of a life annuity of 1 a year paid in advance.

        ``(1/m) sum_{j >= 0} v(n + j/m) S(n + j/m)`` (payments at x+n, x+n+1/m, ...; while
        alive; for at most ``term`` years), with S(t) = l(x+t)/l(x) (see :meth:`survival`),
        m = ``frequency`` (12 = monthly), n = ``deferment`` (years), ``interest`` an annual
        effective rate or a path of annual rates (rate k applies in year k from now, the last
        one holds beyond the path; within a year v is compounded at that year's rate).
        ``second``: another table, giving a joint-life annuity (paid while both are alive,
        S = S_x S_y) for a second life aged ``second_age`` (default x). Units: years of
        payment (multiply by the annual amount). ``x`` may be an array of integer ages.
        At a constant rate and m = 1, ä(x) = N(x)/D(x) = (1 - A(x))/d. For m > 1 a temporary
        annuity ending at or before omega equals the UDD result
        alpha(m) ä(x:n) - beta(m) (1 - nE(x)) (Bowers et al. 1997, sec. 5.4); in the open group
        l is exponential, not linear, within the year, so that its payments integrate to
        L(omega) = l(omega)/m(omega). Joint life (m > 1) multiplies the two interpolated
        survival curves.
        """
        return self._annuity_vectorised(x, interest, frequency, deferment, term, 0,
                                        second, second_age)

    def annuity_immediate(self, x: ArrayLike, interest: Interest, *, frequency: int = 1,
                          deferment: int = 0, term: int | None = None,
                          second: LifeContingencies | None = None,
                          second_age: ArrayLike | None = None) -> float | np.ndarray:
        """Present value at age x of a life annuity of 1 a year paid in arrears.

        Payments of 1/m at x+n+1/m, x+n+2/m, ... (the last at x+n+term for a temporary
        annuity); other arguments as :meth:`annuity_due`. Whole life, no deferment:
        a(x) = ä(x) - 1/m.
        """
        return self._annuity_vectorised(x, interest, frequency, deferment, term, 1,
                                        second, second_age)

    def annuity_last_survivor(self, x: ArrayLike, y: ArrayLike, interest: Interest, *,
                              other: LifeContingencies | None = None, frequency: int = 1,
                              deferment: int = 0, term: int | None = None,
                              timing: Literal["due", "immediate"] = "due"
                              ) -> float | np.ndarray:
        """Last-survivor annuity (paid while at least one of x and y is alive):
        a(xy-bar) = a(x) + a(y) - a(xy). ``other`` is y's table (default: this one)."""
        other = self if other is None else other
        f = self._timing(timing)
        kw = {"frequency": frequency, "deferment": deferment, "term": term}
        return (f(self, x, interest, **kw) + f(other, y, interest, **kw)
                - f(self, x, interest, second=other, second_age=y, **kw))

    def reversionary_annuity(self, x: ArrayLike, y: ArrayLike, interest: Interest, *,
                             other: LifeContingencies | None = None, frequency: int = 1,
                             deferment: int = 0, term: int | None = None,
                             timing: Literal["due", "immediate"] = "immediate"
                             ) -> float | np.ndarray:
        """Reversionary annuity a(x|y): 1 a year to y (table ``other``, default this one)
        after the death of x (this table), e.g. a survivor's pension: a(y) - a(xy).

        With the default timing (arrears, Bowers et al. 1997, sec. 9.8) payments start at
        the first payment date after x's death; ``timing="due"`` gives ä(y) - ä(xy), which
        for whole-life, undeferred annuities is the same number.
        """
        other = self if other is None else other
        f = self._timing(timing)
        kw = {"frequency": frequency, "deferment": deferment, "term": term}
        return (f(other, y, interest, **kw)
                - f(self, x, interest, second=other, second_age=y, **kw))

    @staticmethod
    def _timing(timing: str):
        if timing == "due":
            return LifeContingencies.annuity_due
        if timing == "immediate":
            return LifeContingencies.annuity_immediate
        raise ValueError(f"timing must be 'due' or 'immediate', not {timing!r}")

    # ------------------------------------------------------------------ insurance, endowment

    def pure_endowment(self, x: ArrayLike, n: int, interest: Interest, *,
                       second: LifeContingencies | None = None,
                       second_age: ArrayLike | None = None) -> float | np.ndarray:
        """nE(x) = v(n) S(n): value at age x of 1 paid at x+n if alive (both alive, with
        ``second``)."""
        # a one-payment temporary annuity-due deferred n years
        return self.annuity_due(x, interest, deferment=n, term=1, second=second,
                                second_age=second_age)

    def insurance(self, x: ArrayLike, interest: Interest, *,
                  term: int | None = None) -> float | np.ndarray:
        """A(x): present value at age x of 1 paid at the end of the year of death (whole life,
        or within ``term`` years): sum_k v(k+1) (S(k) - S(k+1)).

        Computed as sum_k v(k+1) S(k) - a(x), i.e. the annuity-due discounted one more year
        minus the annuity-immediate; at a constant rate, A(x) = 1 - d ä(x) (d = i/(1+i)).
        """
        self._require_1d()
        rates = self._rates(interest)
        a = self.annuity_immediate(x, rates, term=term)
        # head: sum_k v(k+1) S(k) up to a horizon past omega and the rate path; tail: the
        # geometric rest (survival falls by e^-m(omega), discount by the last rate, a year)
        xs = np.asarray(x)
        out = np.empty(xs.shape)
        for idx in np.ndindex(xs.shape):
            age = self._check_int("x", xs[idx], 0)
            n_years = max(self.omega - age, 0, rates.size) + 1
            if term is not None:
                n_years = min(n_years, self._check_int("term", term, 0))
            k = np.arange(n_years)
            s = self.survival(age + k) / self.survival(np.array([age]))[0]
            head = float(np.sum(self._discount(rates, k + 1.0) * s))
            tail = 0.0
            if term is None or term > n_years:
                start = n_years
                block = float(self._discount(rates, np.array([start + 1.0]))[0]
                              * self.survival(np.array([age + start]))[0]
                              / self.survival(np.array([age]))[0])
                factor = math.exp(-float(self.mx[-1])) / (1.0 + rates[-1])
                blocks = math.inf if term is None else term - start
                tail = _geometric_tail(block, factor, blocks)
            out[idx] = head + tail
        out = out - a
        return out[()] if out.ndim == 0 else out

    def commutation(self, interest: float) -> Commutation:
        """Commutation columns D, N, C, M at a constant annual effective rate (see
        :class:`Commutation`); beyond omega the table is extended with the open group's
        constant force, so N(omega) = D(omega) / (1 - v e^(-m)) and
        M(omega) = v^(omega+1) l(omega) (1 - e^(-m)) / (1 - v e^(-m))."""
        self._require_1d()
        rates = self._rates(interest)
        if rates.size != 1:
            raise ValueError("commutation columns need a constant interest rate")
        i = float(rates[0])
        v = 1.0 / (1.0 + i)
        ages = np.arange(self.omega + 1)
        g = math.exp(-float(self.mx[-1]))
        if v * g >= 1.0 and self.lx[-1] > 0:
            raise ValueError("the open group's tail does not converge (v e^-m >= 1)")
        vx = v ** ages.astype(float)
        D = vx * self.lx
        d_ext = self.dx.copy()
        d_ext[-1] = self.lx[-1] * (1.0 - g)
        C = vx * v * d_ext
        N = np.cumsum(D[::-1])[::-1]
        M = np.cumsum(C[::-1])[::-1]
        tail = 1.0 / (1.0 - v * g) if self.lx[-1] > 0 else 1.0
        # add the geometric tail beyond omega to every N and M
        N = N + D[-1] * (tail - 1.0)
        M = M + C[-1] * (tail - 1.0)
        return Commutation(i, ages, D, N, C, M)
