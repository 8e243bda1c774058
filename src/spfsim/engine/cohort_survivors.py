"""The cohort engine's survivors' branch: pensions in payment indexed and ended, the year's
deaths of pensioners and qualified insured persons, and their survivors' pensions awarded
to next year's cells (expected numbers; the micro engine draws the same rules person by
person: engine.micro.survivors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..params import AGES
from ..schemes import db_pension as dbp
from ..schemes import pension_rules
from ..schemes.survivors import add_a_year_older, capped_shares_by_claim, children_by_claim
from . import cohort_kernels as kernels
from . import cohort_survivor_kernels as survivor_kernels
from .cohort_transitions import SERVICE, _floats, _formula, capped_awards

if TYPE_CHECKING:
    from .cohort_year import PensionYear


class SurvivorTransitions:
    """The survivors' branch of a PensionState (mixed into it)."""

    def _survivors_year(self, y: PensionYear) -> None:
        """Index survivors' pensions (no minimum), end orphans' pensions above the age
        limit and a share of spouses' pensions: those of the survivors who formed a new
        partnership (with the partners from the families; the micro engine ends them at
        the partnership: engine.micro.families), then the end rate."""
        if y.survivors is None:
            return
        if kernels.COMPILED:
            rules = y.survivors
            survivor_kernels.survivors_year(
                self.spouses, self.spouse_pension, self.orphans, self.orphan_pension,
                float(y.indexation), int(rules.orphan_age_limit),
                np.zeros((0, 0)) if rules.partnering is None else _floats(rules.partnering),
                float(rules.end_rate))
            return
        self.spouse_pension = dbp.pension_in_payment(self.spouse_pension, y.indexation, 0.0)
        self.orphan_pension = dbp.pension_in_payment(self.orphan_pension, y.indexation, 0.0)
        over = dbp.orphan_pension_ends(AGES, y.survivors.orphan_age_limit)
        self.orphans[over] = 0.0
        self.orphan_pension[over] = 0.0
        if y.survivors.partnering is not None:
            self.end_spouse_pensions(y.survivors.partnering)
        self.end_spouse_pensions(y.survivors.end_rate)

    def end_spouse_pensions(self, share) -> None:
        """End ``share`` (a number, or (age, sex)) of the spouses' pensions in payment."""
        self.spouses *= 1.0 - share
        self.spouse_pension *= 1.0 - share


    def _survivor_deaths(self, y: PensionYear, q_invalid: np.ndarray,
                         q_others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """This year's deaths of pensioners and qualified insured persons (who die at
        ``q_others``; disability pensioners at ``q_invalid``), and the pensions their
        survivors' shares apply to (for an insured person, the disability pension they
        would have had): persons and currency by (age, sex) at the start of the step."""
        rules = y.survivors
        if kernels.COMPILED:
            return survivor_kernels.survivor_deaths(
                self.active, self.credits, self.recent, self.pensioners, self.pension,
                self.invalid, self.invalid_pension, _floats(rules.population),
                _floats(q_others), _floats(q_invalid), _floats(y.retirement_age),
                float(rules.minimum_service), *_formula(y), self.top_class,
                self.top_invalid_class, self.top_pension_class)
        q = q_others[:, :, None] * rules.population[:, :, None]  # deaths per share
        q_inv = q_invalid[:, :, None] * rules.population[:, :, None]
        future, years = (a[:, :, None] for a in dbp.award_years(
            AGES[:, None], y.retirement_age, y.reference_years, y.formula, death=True))
        active = self.active_by_service()
        credits = self.reference(self.credits.sum(axis=2), self.recent.sum(axis=2),
                                 SERVICE[None, None, :], active, y, years)
        qualified = dbp.qualified_insured(AGES[:, None, None], y.retirement_age[:, :, None],
                                          SERVICE, rules.minimum_service)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_person = np.where(active > 0, credits / active, 0.0)
            insured_pension = (
                dbp.disability_pension(0.0, per_person, SERVICE[None, None, :], future,
                                       y.minimum_pension, y.maximum_pension,
                                       formula=y.formula, spread=y.spread)
                if y.career_caps is None else
                capped_awards(pension_rules.disability_award, per_person, future, y))
        deaths = q * (self.pensioners + active * qualified) + q_inv * self.invalid_by_service()
        money = (q * (self.pension + active * qualified * insured_pension)
                 + q_inv * self.invalid_pension)
        return deaths.sum(axis=2), money.sum(axis=2)


    def _add_survivors(self, y: PensionYear, deaths: np.ndarray, money: np.ndarray) -> None:
        """Award the survivors' pensions of this year's ``deaths`` (:meth:`_survivor_deaths`)
        to next year's cells, once the state has aged into them.

        A deceased aged x leaves a spouse aged y with probability married x the partner-age
        weight, and children by the mother's past fertility; each claim is scaled by the
        share of such persons who exist and do not yet receive a survivor's pension
        (schemes.db_pension.availability, the micro engine's rule too), so survivors in
        payment never exceed the population of their age and sex. The shares of one
        death's survivors are capped together (capped_survivor_shares)."""
        rules = y.survivors
        if kernels.COMPILED:
            weights = rules.partner_weights
            # the same weights every year of a projection, unless the families give them:
            # their bands are found once
            if getattr(self, "_bands_of", None) is not weights:
                self._bands_of = weights
                self._bands = survivor_kernels.partner_bands(weights)
            survivor_kernels.add_survivors(
                self.spouses, self.spouse_pension, self.orphans, self.orphan_pension, deaths,
                money, _floats(rules.population), _floats(rules.next_population),
                _floats(rules.married), _floats(weights), *self._bands, _floats(rules.asfr),
                _floats(child_scale(rules)), children_by_claim_of(rules), float(rules.p_male),
                float(rules.spouse_share),
                float(rules.orphan_share), float(rules.maximum_share),
                int(rules.orphan_age_limit))
            return
        n = len(AGES)
        free = rules.next_population * np.clip(1.0 - self.spouses - self.orphans, 0.0, None)
        weights, limit = rules.partner_weights, rules.orphan_age_limit
        spouse_ok = dbp.availability(dbp.spouse_demand(rules.population, rules.married,
                                                       weights), free)  # (age y, sex)
        if rules.orphan_share > 0 and limit > 0:
            children = dbp.children_by_parent_age(rules.asfr, weights, limit,
                                                  child_scale(rules),
                                                  rules.linked_children)  # (s, x, k)
            demand = np.zeros((n, 2, 2))  # (child age, child sex, parent sex)
            demand[:limit] = dbp.orphan_demand(rules.population, children, rules.p_male)
            child_ok = dbp.availability(demand, free[:, :, None])[:limit]
        else:
            children, child_ok = np.zeros((2, n, 0)), np.zeros((0, 2, 2))
        child_sex = np.array([rules.p_male, 1.0 - rules.p_male])
        by_claim = (children_by_claim_of(rules)[..., :limit]
                    if rules.linked_children is not None else None)
        new = [np.zeros((n, 2)) for _ in range(4)]  # spouses, their money, orphans, theirs
        for sex in range(2):
            partner = weights[sex] * spouse_ok[None, :, 1 - sex]  # (x, y) partners who exist
            reach = partner.sum(axis=1)
            kids_by_sex = children[sex][..., None] * (child_sex * child_ok[:, :, sex])
            kids = kids_by_sex.sum(axis=-1)  # (x, k)
            if by_claim is None:
                spouse_part, orphan_part = dbp.capped_survivor_shares(
                    rules.married[sex] * reach, kids, rules.spouse_share,
                    rules.orphan_share, rules.maximum_share)
            else:  # a man's children come with his partner
                spouse_part, orphan_part = capped_shares_by_claim(
                    rules.married[sex] * reach, weights[sex].sum(axis=1),
                    by_claim[:, sex] * (child_sex * child_ok[:, :, sex]).sum(axis=-1),
                    rules.spouse_share, rules.orphan_share, rules.maximum_share)
            if rules.spouse_share > 0:
                with np.errstate(divide="ignore", invalid="ignore"):
                    where_to = np.where(reach[:, None] > 0, partner / reach[:, None], 0.0)
                # into next year's cells, one year older
                add_a_year_older(new[0][:, 1 - sex],
                                 (deaths[:, sex] * rules.married[sex]) @ partner)
                add_a_year_older(new[1][:, 1 - sex], (spouse_part * money[:, sex]) @ where_to)
            if kids.size:
                split = kids_by_sex.sum(axis=0) / np.maximum(kids.sum(axis=0), 1e-300)[:, None]
                new[2][1:limit + 1] += np.einsum("x,xkc->kc", deaths[:, sex], kids_by_sex)
                new[3][1:limit + 1] += (money[:, sex] @ orphan_part)[:, None] * split
        nxt = np.maximum(rules.next_population, 1e-300)  # persons -> shares of next year's
        for array, added in zip((self.spouses, self.spouse_pension, self.orphans,
                                 self.orphan_pension), new, strict=True):
            array += added / nxt


def child_scale(rules) -> np.ndarray:
    """(orphan_age_limit,) the survivors' rules' scaling of each child age's expected
    children (SurvivorRules.child_scale; 1 when not given)."""
    limit = max(int(rules.orphan_age_limit), 0)
    if rules.child_scale is None:
        return np.ones(limit)
    return np.asarray(rules.child_scale, dtype=float)[:limit]


def children_by_claim_of(rules) -> np.ndarray:
    """(2, sex, age, orphan_age_limit) the survivors' rules' children of a deceased parent
    who leaves a partner and of one who does not (schemes.survivors.children_by_claim of
    SurvivorRules.linked_children), contiguous for the kernels; (0, 0, 0, 0) when a
    mother's fertility and a man's partner's count."""
    if rules.linked_children is None:
        return np.zeros((0, 0, 0, 0))
    limit = max(int(rules.orphan_age_limit), 0)
    return np.ascontiguousarray(
        children_by_claim(rules.linked_children[..., :limit], rules.partner_weights),
        dtype=np.float64)
