"""The persons of a micro run, or one shard of them: the store, its per-chunk accumulators,
and every step of the year that reads or writes persons.

The engine (:mod:`.engine`) computes the year's targets from the counts a population
returns and hands it the year's records; a :class:`Population` holds everybody in one
process, and :mod:`.distributed` splits the persons by id into shards (store.owns), each a
Population on a Dask worker, and adds up what they return. What a population returns is
integers (counts, fixed-point money), or per-person records in id order, so that the sum
over shards is that of the whole population, bit for bit.
"""

from __future__ import annotations

import numpy as np

from ...allocator import release_freed_memory
from ...errors import SpfsimError
from ..benefits import N_COVERAGE
from . import disclosure as D
from . import families as F
from . import kernels as K
from . import poverty as P
from . import records
from .dependants import linked_dependants, pensioners_at_start
from .outputs import _Buffers
from .store import WHOLE, PersonStore

N_CELLS = (K.MAX_AGE + 1) * 2


class Population:
    """A store of persons (everybody, or the shard ``shard`` of them: store.owns) and its
    per-chunk accumulators."""

    def __init__(self, store: PersonStore, chunk: int, n_rules: int, n_groups: int,
                 shard: tuple[int, int, int] = WHOLE, sources: np.ndarray | None = None):
        self.store, self.chunk, self.shard = store, chunk, shard
        # the person file's record of each base-year person id (-1: drawn), or None
        self.sources = sources
        self.buffers = _Buffers(store.capacity, n_rules, n_groups)
        self.exits = np.zeros((n_groups, 2, 2, K.EXIT_BINS), dtype=np.int64)
        self.exit_totals = np.zeros((n_groups, 2, 3), dtype=np.int64)
        self._keys = self._forced = None  # exact alignment's keys and choices, this year
        self.families = False  # link newborns to their parents (engine.micro.families)
        self._linked_dependants = False  # this year's dependants are the pensioners' own

    @property
    def size(self) -> int:
        return self.store.size

    def count_states(self, retirement_age: np.ndarray, disability_minimum_service: int,
                     seed: int, never_share: np.ndarray) -> np.ndarray:
        """Last year's states per (age, sex) (kernels.count_states)."""
        store = self.store
        self.buffers.fit(store.capacity)
        return K.count_states(store.status, store.age, store.sex, store.service, store.pid,
                              store.size, self.chunk, retirement_age,
                              disability_minimum_service, seed, never_share,
                              self.buffers.state_counts)

    def pensioners_at_start(self, indexation: float, minimum: float,
                            scale: float) -> np.ndarray:
        """The year's pensioners, their indexed pensions and the persons without a
        survivor's pension per (age, sex) (dependants.pensioners_at_start)."""
        store = self.store
        return pensioners_at_start(store.status, store.age, store.sex, store.pension,
                                   store.survivor_kind, store.size, self.chunk,
                                   float(indexation), float(minimum), float(scale),
                                   np.zeros((K.accumulator_rows(), 101, 2, 3),
                                            dtype=np.int64))

    def linked_dependants(self, rules, indexation: float, minimum: float,
                          child_age_limit: int) -> tuple[int, int]:
        """This year's dependants of the pensioners among their own family links
        (dependants.linked_dependants; ``rules``: the cohort engine's DependantRules of the
        year), paid by the next :meth:`year_step`; returns (spouses, children)."""
        store, buffers = self.store, self.buffers
        if not buffers.dependant_links:
            buffers.link_dependants()
        self._linked_dependants = True
        return linked_dependants(
            store.status, store.age, store.pension, store.partner, store.mother,
            store.father, store.survivor_kind, store.size, float(indexation),
            float(minimum), float(rules.spouse_share), float(rules.child_share),
            float(rules.maximum_share), int(rules.spouse_age), int(child_age_limit),
            buffers.dependant_flags, buffers.supplements)

    def year_step(self, when: dict, demography: records.Demography, labour: dict,
                  pension: records.Pension, tables: records.PensionTables,
                  benefits: records.Benefits, exact: bool = False,
                  earnings: np.ndarray | None = None, informal: float = 0.0
                  ) -> dict[str, np.ndarray]:
        """The year's pass over the persons (kernels.year_step); ``when``: the fields of
        records.Step but the size; ``exact``: with the deaths and contributors chosen by
        :meth:`align`; ``earnings`` (age, sex) of a covered worker and ``informal``
        (their fraction an informal worker earns): for the persons' incomes, when poverty
        is measured (:meth:`measure_poverty`). Returns the accumulators summed over their
        rows."""
        store, buffers = self.store, self.buffers
        forced_contribution = forced_death = np.empty(0, dtype=np.int8)
        if exact:
            forced_contribution, forced_death = self._forced
            self._forced = None
        if self.families and pension.has and pension.care_child_age > 0:
            if not buffers.care_links:
                buffers.link_care_credits()
            F.mothers_of_young_children(store.status, store.age, store.mother, store.size,
                                        pension.care_child_age, buffers.young_child)
        if (buffers.poverty and not buffers.household_coverage and len(benefits.codes)
                and benefits.codes[:, K.NC_HOUSEHOLD].any()):
            buffers.cover_household_benefits()
        linked = ((buffers.dependant_flags, buffers.supplements)
                  if self._linked_dependants else records.NO_LINKED_DEPENDANTS)
        self._linked_dependants = False
        K.year_step(
            records.persons(store, buffers.birth_flag, buffers.death_flag,
                            buffers.young_child, linked),
            records.step(size=store.size, chunk=self.chunk, **when),
            demography,
            records.labour(**labour, forced_contribution=forced_contribution,
                           forced_death=forced_death),
            pension, tables, benefits,
            records.income(buffers.income, earnings, informal, buffers.coverage_bits)
            if buffers.poverty
            else records.NO_INCOME,
            buffers.tallies())
        return buffers.sums()

    def measure_poverty(self) -> None:
        """From the next year step on, write the persons' incomes for :meth:`poverty`."""
        self.buffers.measure_poverty()

    def poverty(self, year: int, seed: int, spec, line: float | None, unit: float,
                scale: float, benefits: records.Benefits, disregard: np.ndarray,
                threshold: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Household poverty of the year just stepped (engine.micro.poverty; ``spec``: the
        model's params.PovertySpec), after the household-tested schemes of ``benefits``
        (the year's rules; ``disregard`` (J,): the guarantees' earnings disregards;
        ``threshold`` (J,): the persons' benefits' thresholds, multiples of the benefit) are
        paid, at ``line`` (currency per equivalent adult; None: the spec's share of the
        median equivalised disposable income). ``unit``: the income histogram's unit (currency),
        ``scale``: money's fixed-point unit. Returns persons measured (sex, age group),
        poor and their gaps in currency (stage, sex, age group), income histograms (stage,
        bin: persons, currency), the line, the unit, the household-tested schemes'
        beneficiaries and expenditure in currency (J, age, sex), and the persons they
        cover whom no other benefit did (age, sex, coverage group)."""
        store, b = self.store, self.buffers
        rows = K.accumulator_rows()
        other_adult, child, child_age = spec.other_adult, spec.child, spec.child_age
        crowded = P.household_incomes(store.household, store.birth_year, store.sex, b.income,
                                      b.members, store.size, year, child_age)
        if crowded >= 0:
            children, working, older = P.MEMBER_FIELD_MAX[:len(P.AGE_GROUPS)]
            raise SpfsimError(
                f"in {year} the household of person {store.pid[crowded]} has more members "
                f"of one sex and age group than the poverty measure counts ({children} "
                f"children, {working} persons of working age, {older} older persons of one "
                f"sex, {P.MEMBER_FIELD_MAX[P.BETWEEN]} aged between poverty.child_age = "
                f"{child_age} and {P.CHILD_MAX_AGE + 1}): check the model's families table "
                "(its leave_home and partnered rates)")
        n_rules = len(benefits.codes)
        paid = np.zeros((rows, n_rules, K.MAX_AGE + 1, 2), dtype=np.int64)
        money = np.zeros_like(paid)
        tested = np.zeros((2, n_rules, K.MAX_AGE + 1, 2), dtype=np.int64)  # paid, money
        # the rows of household_coverage, and the last row the serial tested benefits'
        covered = np.zeros((rows + 1, K.MAX_AGE + 1, 2, N_COVERAGE), dtype=np.int64)
        if n_rules and (benefits.codes[:, K.NC_HOUSEHOLD] == P.THRESHOLD_TEST).any():
            P.household_tested_benefits(
                store.household, store.pid, store.birth_year, store.sex, b.income,
                b.members, store.size, seed, year, benefits.codes, benefits.probability,
                benefits.amount, np.ascontiguousarray(threshold, dtype=np.float64),
                child_age, other_adult, child, scale, tested[0], tested[1],
                b.coverage_bits, covered[rows])
        if n_rules and (benefits.codes[:, K.NC_HOUSEHOLD] == P.GUARANTEE_TEST).any():
            groups = np.zeros(store.size, dtype=np.uint8)
            P.household_benefits(store.household, store.pid, store.birth_year, store.sex,
                                 b.income, b.members, store.size, self.chunk, seed, year,
                                 benefits.codes, benefits.probability, benefits.amount,
                                 np.ascontiguousarray(disregard, dtype=np.float64),
                                 child_age, other_adult, child, scale, paid, money, groups)
            P.household_coverage(store.household, store.birth_year, store.sex, store.size,
                                 self.chunk, year, groups, b.coverage_bits, covered[:rows])
        P.household_measures(store.household, b.income, b.members, store.size, self.chunk,
                             child_age, other_adult, child, unit, scale,
                             np.nan if line is None else line, b.income_counts,
                             b.income_sums, b.poverty_persons, b.poor, b.poverty_gaps)
        counts = b.income_counts.sum(axis=0)
        if line is None:  # relative: the line from the median of disposable incomes
            line = spec.relative_share * P.histogram_median(counts[-1], unit)
            P.poverty_counts(store.household, b.income, b.members, store.size, self.chunk,
                             line, scale, b.poverty_persons, b.poor, b.poverty_gaps)
        return {"persons": b.poverty_persons.sum(axis=0),
                "poor": b.poor.sum(axis=0),
                "gaps": b.poverty_gaps.sum(axis=0) * scale,
                "income_counts": counts,
                "income_sums": b.income_sums.sum(axis=0) * scale,
                "line": np.float64(line), "unit": np.float64(unit),
                "household_paid": paid.sum(axis=0) + tested[0],
                "household_money": (money.sum(axis=0) + tested[1]) * scale,
                "household_covered": covered.sum(axis=0)}

    def alignment_counts(self, seed: int, never_share: np.ndarray) -> np.ndarray:
        """Exact alignment: persons by event, cell and probability (kernels)."""
        store = self.store
        return K.alignment_counts(store.status, store.age, store.sex, store.pid, store.size,
                                  seed, never_share)

    def alignment_candidates(self, seed: int, year: int, probabilities: dict,
                             wanted: np.ndarray, never_share: np.ndarray) -> list[tuple]:
        """Exact alignment: for deaths and contributors, each cell's ``wanted`` persons here
        with the smallest keys, as (cells, keys, ids) (kernels.smallest_keys; the keys are
        kept for :meth:`choose`). ``probabilities``: q_death, q_invalid, stay, join;
        ``never_share``: the never covered's (age, sex), who do not contribute."""
        store, out = self.store, []
        self._keys = []
        for kind in range(2):
            cell, key = K.alignment_keys(
                store.status, store.age, store.sex, store.pid, store.size, seed, year,
                probabilities["q_death"], probabilities["q_invalid"],
                probabilities["stay"], probabilities["join"], never_share, kind)
            self._keys.append((cell, key))
            best = K.smallest_keys(cell, key, wanted[kind])
            out.append((cell[best], key[best], store.pid[best]))
        return out

    def choose(self, thresholds: list[tuple]) -> None:
        """Exact alignment: the persons whose (key, id) is at most their cell's threshold
        (kernels.alignment_thresholds) die, or contribute, this year."""
        chosen = []
        for (cell, key), (threshold_key, threshold_id) in zip(self._keys, thresholds,
                                                              strict=True):
            out = np.empty(len(cell), dtype=np.int8)
            K.apply_thresholds(cell, key, self.store.pid, threshold_key, threshold_id, out)
            chosen.append(out)
        self._keys = None
        self._forced = (chosen[1], chosen[0])  # (contribution, death)

    def align(self, seed: int, year: int, probabilities: dict, wanted: np.ndarray,
              never_share: np.ndarray) -> None:
        """Exact alignment in one store: choose each cell's ``wanted`` (2, cells) deaths
        and contributors."""
        candidates = self.alignment_candidates(seed, year, probabilities, wanted,
                                               never_share)
        self.choose([K.alignment_thresholds(*candidates[kind], wanted[kind])
                     for kind in range(2)])

    def add_immigrants(self, next_id: int, seed: int, year: int, immigrants: np.ndarray,
                       asfr: np.ndarray, permanent_sd: float, room: int,
                       families: dict[str, np.ndarray] | None = None) -> int:
        """The year's immigrants this population holds (kernels.shard_immigrants, ids from
        ``next_id``), with ``room`` slots reserved for all the entrants; with families
        (``families``: the families table's (age, sex) columns of the year), they arrive
        as couples and with their children (families.link_arriving_families). Returns the
        births pending: mothers flagged during the step or among the immigrants."""
        store = self.store
        store.reserve(room)
        self.buffers.fit(store.capacity)
        arrived = store.size
        store.size, _, _ = K.shard_immigrants(
            store.pid, store.status, store.age, store.sex, store.birth_year,
            store.earnings_factor, self.buffers.birth_flag, store.size, next_id, seed, year,
            immigrants, asfr, permanent_sd, self.shard)
        if self.families:
            F.link_arriving_families(
                store.pid, store.status, store.age, store.sex, store.partner, store.mother,
                store.father, store.left_home, arrived, store.size, seed, year, asfr,
                families["partnered"], families["partner_age_difference"],
                families["partner_age_spread"])
        return int(np.count_nonzero(self.buffers.birth_flag[:store.size]))

    def add_newborns(self, first_id: int, n: int, seed: int, year: int, p_male: float,
                     survival_birth: np.ndarray, p_emigrate: np.ndarray,
                     permanent_sd: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Clear the birth flags and add the year's ``n`` babies (ids from ``first_id``)
        this population holds (kernels.newborns); returns births, deaths and emigrants
        by sex."""
        store = self.store
        if self.families:  # the j-th baby's mother: the j-th flagged, her partner its father
            mothers, fathers = F.take_mothers(self.buffers.birth_flag, store.partner,
                                              store.size, n)
        else:
            self.buffers.birth_flag[:store.size] = 0
        store.reserve(n)
        self.buffers.fit(store.capacity)
        first_slot = store.size
        store.size, births, deaths, emigrants = K.newborns(
            store.pid, store.status, store.age, store.sex, store.birth_year,
            store.earnings_factor, store.size, first_id, n, seed, year, p_male,
            survival_birth, p_emigrate, permanent_sd, self.shard)
        store.next_id = first_id + n
        if self.families:
            F.link_newborns(store.pid, store.status, store.mother, store.father, store.size,
                            first_slot, first_id, mothers, fathers)
        return births, deaths, emigrants

    def initial_families(self, seed: int, base_year: int, tables: dict[str, np.ndarray],
                         asfr: np.ndarray, spouse_pensions: bool = False,
                         linked: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Draw the base year's families (families.initial_families; ``tables``: the
        families table's (age, sex) columns of the base year) and link newborns from now
        on; returns the family counts (age, sex, kind) and households by size. With
        ``spouse_pensions`` (the survivors' partners from the families), the spouse's
        pensioners stay single. ``linked``: the persons' links are a person file's
        households (initial._household_clones): nothing is drawn, and with
        ``spouse_pensions`` a partnered person's spouse's pension ends, as a new
        partnership ends it."""
        self.families = True
        counts, sizes = _family_accumulators()
        s = self.store
        if linked:
            used = slice(0, s.size)
            s.left_home[used] |= (s.mother[used] == 0) & (s.father[used] == 0)
            if spouse_pensions:
                ended = np.flatnonzero((s.partner[used] != 0)
                                       & (s.survivor_kind[used] == K.SPOUSE))
                s.survivor_kind[ended] = K.NO_SURVIVOR
                s.survivor_pension[ended] = 0.0
            F.households(s.status, s.age, s.sex, s.partner, s.mother, s.father, s.household,
                         s.left_home, s.size, counts, sizes, self.buffers.scratch(s.size))
            return counts, sizes
        F.initial_families(s.pid, s.status, s.age, s.sex, s.partner, s.mother, s.father,
                           s.household, s.left_home, s.size, seed, base_year,
                           tables["partnered"], tables["leave_home"],
                           tables["partner_age_difference"], tables["partner_age_spread"],
                           asfr, counts, sizes, s.survivor_kind,
                           F.PENSIONERS_SINGLE if spouse_pensions else F.PENSIONS_IGNORED,
                           self.buffers.scratch(s.size))
        return counts, sizes

    def family_year(self, seed: int, year: int, tables: dict[str, np.ndarray],
                    spouse_pensions: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The year's family events (families.family_year; ``tables``: the families
        table's (age, sex) columns of the year); returns the family counts (age, sex, kind)
        and households by size. With ``spouse_pensions`` (the survivors' partners from the
        families), a new partnership ends a spouse's pension."""
        counts, sizes = _family_accumulators()
        s = self.store
        F.family_year(s.pid, s.status, s.age, s.sex, s.partner, s.mother, s.father,
                      s.household, s.left_home, s.size, seed, year, tables["partnered"],
                      tables["separation"], tables["leave_home"],
                      tables["partner_age_difference"], tables["partner_age_spread"],
                      counts, sizes, s.survivor_kind, s.survivor_pension,
                      F.PENSION_ENDS if spouse_pensions else F.PENSIONS_IGNORED,
                      self.buffers.scratch(s.size))
        return counts, sizes

    def source_units(self, n_records: int, unit_of_record: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """The person file's records with a clone living here (record,), and the source
        units (a record's household, or the record) with a clone living in a household of
        each size (families.N_SIZES, unit), as 0/1 (disclosure.living_records,
        household_sources)."""
        s = self.store
        alive = np.zeros(n_records, dtype=np.uint8)
        seen = np.zeros((F.N_SIZES, int(unit_of_record.max()) + 1), dtype=np.uint8)
        D.living_records(s.pid, s.status, s.size, self.sources, alive)
        if self.families:
            D.household_sources(s.pid, s.status, s.household, s.size, self.sources,
                                unit_of_record, seen)
        return alive, seen

    def family_findings(self) -> np.ndarray:
        """Violations of the family identities, counted as families.FINDINGS lists them."""
        s = self.store
        return F.family_findings(s.status, s.sex, s.partner, s.mother, s.father,
                                 s.household, s.left_home, s.size)

    def survivor_claims(self, seed: int, year: int, rules: dict
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The claims of this year's flagged deaths (kernels.claims_of_deaths; ``rules``
        its arguments after the year), in id order: (deceased's id, cell, kind, amount)."""
        store, buffers = self.store, self.buffers
        most = int(np.count_nonzero(buffers.death_flag[:store.size])) * (
            1 + rules["orphan_age_limit"])
        cells, kinds = np.empty(most, dtype=np.int64), np.empty(most, dtype=np.uint8)
        amounts, deaths = np.empty(most), np.empty(most, dtype=np.int64)
        n = K.claims_of_deaths(
            store.pid, store.age, store.sex, store.pension, buffers.death_flag, store.size,
            seed, year, rules["spouse_share"], rules["orphan_share"],
            rules["orphan_age_limit"], rules["married"], rules["partner_cumulative"],
            rules["spouse_available"], rules["orphan_available"], rules["asfr"],
            rules["child_scale"], rules["linked"], rules["p_male"], rules["maximum_share"],
            cells, kinds, amounts, deaths)
        return deaths[:n], cells[:n], kinds[:n], amounts[:n]

    def linked_survivors(self, rules) -> tuple[int, int]:
        """Pay this year's flagged deaths' survivors' pensions to their own partners and
        children (kernels.linked_survivors; ``rules``: the cohort engine's SurvivorRules of
        the year); returns (spouses, orphans) paid."""
        s = self.store
        return K.linked_survivors(s.status, s.age, s.pension, self.buffers.death_flag,
                                  s.partner, s.mother, s.father, s.survivor_kind,
                                  s.survivor_pension, s.size, rules.spouse_share,
                                  rules.orphan_share, rules.orphan_age_limit,
                                  rules.maximum_share)

    def eligible_counts(self, n_pages: int) -> np.ndarray:
        """Persons who can receive a survivor's pension by (id page, cell)."""
        store = self.store
        return K.eligible_counts(store.pid, store.status, store.age, store.sex,
                                 store.survivor_kind, store.size, self.shard[0], n_pages)

    def award(self, ranks: tuple, kinds: np.ndarray, amounts: np.ndarray,
              offsets: np.ndarray | None = None) -> int:
        """Give the claims to the persons of their ranks (kernels.give_claims; ``ranks``:
        kernels.survivor_ranks, ``offsets`` by id page and cell: None in one process)."""
        store = self.store
        if offsets is None:
            offsets = np.zeros((1, N_CELLS), dtype=np.int64)
        return int(K.give_claims(store.pid, store.status, store.age, store.sex,
                                 store.survivor_kind, store.survivor_pension, store.size,
                                 self.shard[0], offsets, *ranks, kinds, amounts))

    def occupancy(self) -> tuple[int, int]:
        """(persons here, slots in use)."""
        store = self.store
        return int(np.count_nonzero(store.status[:store.size])), store.size

    def compact(self, first_birth_year: int, unit: float, scale: float) -> None:
        """Record the lifetimes of the persons gone, then drop their slots."""
        self._record_lifetimes(first_birth_year, unit, scale, None)
        self.store.compact(self.buffers.scratch(self.store.size))

    def finish(self, first_birth_year: int, unit: float, scale: float,
               continuation: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """At the horizon: record everyone's lifetimes (with the pensions' ``continuation``;
        None: no pension, nothing more to record); returns the lifetime histograms and
        totals (kernels.record_lifetimes). The per-slot buffers then go back to the
        system, so that the results are assembled below the run's peak memory (in a
        1,000,000-person default run, 8.5 MB of yearly results, which set the peak when
        made beside the buffers)."""
        if continuation is not None:
            self._record_lifetimes(first_birth_year, unit, scale, continuation)
        self.buffers.release()
        release_freed_memory()
        return self.exits, self.exit_totals

    def _record_lifetimes(self, first_birth_year, unit, scale, continuation) -> None:
        store, everyone = self.store, continuation is not None
        K.record_lifetimes(
            store.status, store.age, store.sex, store.birth_year, store.pension,
            store.lifetime_contributions, store.lifetime_benefits, store.size,
            first_birth_year, unit, continuation if everyone else np.zeros((101, 2)),
            everyone, self.exits, self.exit_totals, scale)

    def view(self) -> dict[str, np.ndarray]:
        """The used part of the store's arrays (copies)."""
        return self.store.view()


def _family_accumulators() -> tuple[np.ndarray, np.ndarray]:
    """Zeroed family counts (age, sex, kind) and households by size."""
    return (np.zeros((K.MAX_AGE + 1, 2, F.N_FAMILY_COUNTS), dtype=np.int64),
            np.zeros(F.N_SIZES, dtype=np.int64))
