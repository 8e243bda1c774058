"""Families in the micro engine: partners, parents and households as links between persons.

Each person may be linked to a partner, a mother and a father, and belongs to a household
named by its reference person (store.PersonStore: the links hold the other person's slot +
1, 0 for none, so that a fresh slot has none). A link is followed in one step, into arrays
that fit in the processor's caches, which is what keeps families cheap; a compaction moves
the links with the persons (store.relink). The store keeps persons in id order, so the
lower slot is the smaller id.

Once a year, after the year's deaths, emigrants and entrants, :func:`family_year` runs
its steps over the whole population, independent of threads and chunks: every draw is
keyed by a person's id; steps 1-3 run in parallel over chunks of slots (each link is
written at one person's turn only), step 4 lists the single persons in parallel, in slot
(id) order, and matches them in one serial pass, step 5 finds the households in parallel:

1. links to persons who died or left are cleared (the partner's death is widowhood);
2. couples separate with the mean of the two partners' ``separation`` rates;
3. persons living with a parent leave home with the ``leave_home`` rate of their age;
4. single women form partnerships, aligned so that the expected share of women of each
   age living with a partner is the ``partnered`` table's (a woman's chance is the shortfall
   over the single women of her age), each with a single man whose age is hers plus a
   normal draw of mean ``partner_age_difference`` and sd ``partner_age_spread`` (rounded;
   the nearest ages with a single man are tried, up to :data:`AGE_SEARCH` years away),
   chosen at random among the single men of that age; both leave the parental home. The
   women forming ask in a random order (keyed by id), so that no age asks first;
5. households: a person living with a parent belongs to that parent's household; a couple
   is a household named by the partner with the smaller id; anyone else lives alone.

Births are linked to the mother and to her partner at the birth (:func:`link_newborns`);
immigrants arrive as couples and with their children (:func:`link_arriving_families`).
The base year's families are drawn by :func:`initial_families`. :func:`family_findings`
checks the identities (symmetric partners of the other sex, no link to anyone gone, every
household that of the parent one lives with, the couple or oneself; the engine runs it in the
base year, every engine.FAMILY_CHECK_YEARS years and at the horizon). Runs split across workers
(engine.micro.distributed) hold persons of a family on different workers: families are one
process only (refused there with a clear error).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ... import rng
from .counters import NO_SURVIVOR, SPOUSE
from .store import FEMALE, GONE, MALE

MAX_AGE = 100
MIN_PARTNER_AGE = 15  # the youngest age at which a partnership is formed
AGE_SEARCH = 3  # years either side of the drawn partner's age searched for a single man
MAX_CHILD_AGE = 30  # the oldest age at which the base year's persons may live with a parent
ARRIVING_CHILD_AGE = 15  # immigrants under this age arrive with a mother among immigrants
N_SIZES = 12  # household sizes counted: 1..11, and 12 or more

# spouses' pensions and partnerships (schemes.db_pension with survivor_partners
# 'families'): none (no rule), a new partnership ends the pension, or the base year's
# pensioners stay single (their pensions, drawn from the cohort engine, are in payment)
PENSIONS_IGNORED, PENSION_ENDS, PENSIONERS_SINGLE = 0, 1, 2
NO_PENSIONS = (np.zeros(0, dtype=np.uint8), np.zeros(0), PENSIONS_IGNORED)

# family counts by (age, sex): (engine.micro.families.family_year's ``counts``)
F_PARTNERED, F_WITH_PARENT, F_FORMED, F_SEPARATED, F_WIDOWED, F_LEFT_HOME = range(6)
N_FAMILY_COUNTS = 6

# identities (family_findings): what each count of violations means
FINDINGS = ("link outside the store", "partner link not returned",
            "partner of the same sex", "link to a person not here",
            "household not that of the parent, the couple or oneself")


FAMILY_CHUNK = 65536  # slots a task of the family passes in parallel


@nb.njit(cache=True, parallel=True)
def _dissolutions(pid, status, age, sex, partner, mother, father, left_home, size, seed,
                  year, separation, leave_home, counts, women, with_partner):
    """Steps 1-3: links to persons who died or left are cleared (a partner's: widowhood);
    each couple separates with the mean of the partners' rates (drawn on the woman's id);
    persons living with a parent leave with their age's rate (those with no parent here,
    immigrants and orphans, are marked as having left). Counts by age the women and those
    with a partner after it (``women``, ``with_partner``), at each woman's turn: her
    partner link is written at hers alone.

    In parallel over chunks of slots: each link is written by one person's turn only (a
    woman's partner link at hers; a man's at his when she is gone, else at hers when they
    separate, and then she is here), and every draw is keyed by a person's id, so the
    result does not depend on the order of the turns or on the threads. The counts are
    integers summed per chunk."""
    n_chunks = (size + FAMILY_CHUNK - 1) // FAMILY_CHUNK
    events = np.zeros((n_chunks, MAX_AGE + 1, 2, N_FAMILY_COUNTS), dtype=np.int64)
    tallies = np.zeros((n_chunks, MAX_AGE + 1, 2), dtype=np.int64)  # women, partnered
    for c in nb.prange(n_chunks):
        for slot in range(c * FAMILY_CHUNK, min(size, (c + 1) * FAMILY_CHUNK)):
            i = np.int64(slot)
            if status[i] == GONE:
                continue
            a, s = age[i], sex[i]
            if partner[i] != 0 and status[partner[i] - 1] == GONE:
                partner[i] = 0
                events[c, a, s, F_WIDOWED] += 1
            if mother[i] != 0 and status[mother[i] - 1] == GONE:
                mother[i] = 0
            if father[i] != 0 and status[father[i] - 1] == GONE:
                father[i] = 0
            if s == FEMALE and partner[i] != 0:
                j = partner[i] - 1
                rate = 0.5 * (separation[a, FEMALE] + separation[age[j], MALE])
                if rng.uniform(seed, rng.SEPARATION, pid[i], year) < rate:
                    partner[i] = partner[j] = 0
                    events[c, a, FEMALE, F_SEPARATED] += 1
                    events[c, age[j], MALE, F_SEPARATED] += 1
            if s == FEMALE:
                tallies[c, a, 0] += 1
                tallies[c, a, 1] += partner[i] != 0
            if left_home[i] == 0 and mother[i] == 0 and father[i] == 0:
                left_home[i] = 1  # no parent here (an immigrant, an orphan): not an event
            elif left_home[i] == 0 and rng.uniform(seed, rng.LEAVE_HOME, pid[i], year) < \
                    leave_home[a, s]:
                left_home[i] = 1
                events[c, a, s, F_LEFT_HOME] += 1
    counts += events.sum(axis=0)
    total = tallies.sum(axis=0)
    women += total[:, 0]
    with_partner += total[:, 1]


@nb.njit(inline="always", cache=True)
def _kept_single(i, survivor_kind, spouse_pensions) -> bool:
    """Whether person i may not form a partnership: a spouse's pensioner of the base year
    (``spouse_pensions`` PENSIONERS_SINGLE)."""
    return spouse_pensions == PENSIONERS_SINGLE and survivor_kind[i] == SPOUSE


@nb.njit(inline="always", cache=True)
def _may_form(i, status, age, partner, survivor_kind, spouse_pensions) -> bool:
    """Whether person i is single, here, from MIN_PARTNER_AGE and may form a partnership
    (:func:`_kept_single`)."""
    return not (status[i] == GONE or partner[i] != 0 or age[i] < MIN_PARTNER_AGE
                or _kept_single(i, survivor_kind, spouse_pensions))


@nb.njit(cache=True, parallel=True)
def _singles(pid, status, age, sex, partner, lo, size, seed, year, p_form, streams,
             survivor_kind, spouse_pensions, kinds):
    """Slots lo..size-1 for step 4 (:func:`_may_form`): the single men, as (first index by
    age (MAX_AGE + 2,), slots in slot order within each age); and the single women who
    form a partnership this year (``p_form`` by age; ``streams`` as in
    :func:`_form_partnerships`), as (slots in slot order, their turn keys, how many).

    Two passes in parallel over chunks of slots, the first finding who is which (a byte a
    slot: 0 neither, 1 a single man, 2 a woman who forms) and counting each chunk's men by
    age and women, the second writing them from the chunk's offsets: the lists are those
    of one pass in slot order, whatever the threads. ``kinds``: uint8 scratch of at least
    ``size - lo`` slots for that byte (overwritten)."""
    n_chunks = (size - lo + FAMILY_CHUNK - 1) // FAMILY_CHUNK
    men = np.zeros((n_chunks + 1, MAX_AGE + 1), dtype=np.int64)  # chunk c's at row c + 1
    women = np.zeros(n_chunks + 1, dtype=np.int64)
    kinds[:size - lo] = 0
    for c in nb.prange(n_chunks):
        for slot in range(lo + c * FAMILY_CHUNK, min(size, lo + (c + 1) * FAMILY_CHUNK)):
            i = np.int64(slot)
            if not _may_form(i, status, age, partner, survivor_kind, spouse_pensions):
                continue
            if sex[i] == MALE:
                kinds[i - lo] = 1
                men[c + 1, age[i]] += 1
            elif rng.uniform(seed, streams[0], pid[i], year) < p_form[age[i]]:
                kinds[i - lo] = 2
                women[c + 1] += 1
    first = np.zeros(MAX_AGE + 2, dtype=np.int64)
    for a in range(MAX_AGE + 1):
        first[a + 1] = first[a] + men[:, a].sum()
    at = np.empty_like(men)  # (chunk, age) where the chunk's first man of the age goes
    at[0] = first[:-1]
    for c in range(n_chunks):
        at[c + 1] = at[c] + men[c + 1]
    start = np.cumsum(women)  # where each chunk's first woman goes
    slots = np.empty(first[-1], dtype=np.int32)
    forming = np.empty(start[-1], dtype=np.int64)
    keys = np.empty(start[-1])
    for c in nb.prange(n_chunks):
        filled, n = at[c], start[c]  # the chunk's own row: its cursors by age
        for slot in range(lo + c * FAMILY_CHUNK, min(size, lo + (c + 1) * FAMILY_CHUNK)):
            i = np.int64(slot)
            if kinds[i - lo] == 2:
                forming[n], keys[n] = i, rng.uniform(seed, streams[4], pid[i], year)
                n += 1
            elif kinds[i - lo] == 1:
                slots[filled[age[i]]] = i
                filled[age[i]] += 1
    return first, slots, forming, keys, start[-1]


@nb.njit(cache=True)
def _formation_probability(women, with_partner, partnered):
    """A single woman's chance of forming a partnership this year, by age: the shortfall of
    partnered women (``with_partner`` of ``women``, by age) against the ``partnered`` share,
    over the single women (0 to 1)."""
    p = np.zeros(MAX_AGE + 1)
    for a in range(MIN_PARTNER_AGE, MAX_AGE + 1):
        single = women[a] - with_partner[a]
        if single > 0:
            p[a] = min(max((partnered[a, FEMALE] * women[a] - with_partner[a]) / single, 0.0),
                       1.0)
    return p


@nb.njit(cache=True)
def _form_partnerships(pid, status, age, sex, partner, left_home, lo, size, seed, year,
                       p_form, age_difference, age_spread, counts, streams, survivor_kind,
                       survivor_pension, spouse_pensions, kinds):
    """Step 4: single women of slots lo..size-1 form partnerships with probability
    ``p_form`` (by age) with a single man of those slots of a drawn age, chosen at random
    among those of that age still single; ``streams``: the random streams of
    rng.PARTNERSHIP_STREAMS. ``spouse_pensions``: PENSION_ENDS, a partner's spouse's
    pension (``survivor_kind``, ``survivor_pension``) ends with the partnership;
    PENSIONERS_SINGLE, spouse's pensioners neither ask nor are chosen. Its callers pass
    the same types (``lo`` and ``spouse_pensions`` int64, not literals; ``p_form``
    contiguous; ``survivor_pension`` float32; ``kinds``: :func:`_singles`' scratch, uint8),
    so that Numba compiles it once, not once a caller.

    The search runs in rounds: every woman forming asks first at her drawn age, then
    those still single at +1, then at -1, and so on, so that no woman takes a man of
    another's drawn age before that woman has asked for him. Within a round the women ask
    in a random order (a key drawn on each one's id), not in slot order: slots follow
    ids, and the base population's ids run from the youngest, so in slot order the younger
    women took the scarce older men first and few women over 75 found a partner (6 % at 80
    where the table asks for 40 % and single men to match the order-free expectation,
    demography.partnerships, gave 26 %). The rounds are the expected couples' own order,
    so that the engines agree: with each woman searching all her ages before the next
    asked, the women whose drawn age ran short took its neighbours' men ahead of their own
    askers. Given the default model's expected singles of 2040 (2 million persons), the
    men of 66, where the search from the scarce older ages lands, formed 39 % more
    partnerships than expected so (5 seeds); 4.5 % more in rounds (20 seeds)."""
    first, slots, forming, keys, n = _singles(pid, status, age, sex, partner, lo, size,
                                              seed, year, p_form, streams, survivor_kind,
                                              spouse_pensions, kinds)
    available = first[1:] - first[:-1]  # single men left at each age
    order = np.argsort(keys[:n], kind="mergesort")
    wanted = np.empty(n, dtype=np.int64)  # each woman's drawn partner age, in turn order
    for t in range(n):
        i = forming[order[t]]
        a = age[i]
        z = rng.normal(seed, streams[1], streams[2], pid[i], year)
        drawn = np.floor(a + age_difference[a, FEMALE] + age_spread[a, FEMALE] * z + 0.5)
        wanted[t] = np.int64(min(max(drawn, MIN_PARTNER_AGE), MAX_AGE))
    matched = np.zeros(n, dtype=np.bool_)
    for step in range(2 * AGE_SEARCH + 1):  # rounds at wanted, +1, -1, +2, -2, ...
        offset = ((step + 1) // 2) * (1 if step % 2 == 1 else -1)
        for t in range(n):
            m_age = wanted[t] + offset
            if matched[t] or m_age < MIN_PARTNER_AGE or m_age > MAX_AGE or \
                    available[m_age] == 0:
                continue
            i = forming[order[t]]
            pick = int(rng.uniform(seed, streams[3], pid[i], year) * available[m_age])
            at = first[m_age] + pick
            j = np.int64(slots[at])
            available[m_age] -= 1
            slots[at] = slots[first[m_age] + available[m_age]]
            partner[i], partner[j] = j + 1, i + 1
            left_home[i] = left_home[j] = 1
            counts[age[i], FEMALE, F_FORMED] += 1
            counts[m_age, MALE, F_FORMED] += 1
            matched[t] = True
            if spouse_pensions == PENSION_ENDS:
                _end_spouse_pension(i, survivor_kind, survivor_pension)
                _end_spouse_pension(j, survivor_kind, survivor_pension)


@nb.njit(inline="always", cache=True)
def _end_spouse_pension(i, survivor_kind, survivor_pension):
    """A new partnership ends person i's spouse's pension (an orphan's goes on)."""
    if survivor_kind[i] == SPOUSE:
        survivor_kind[i] = NO_SURVIVOR
        survivor_pension[i] = 0.0


@nb.njit(inline="always", cache=True)
def _home_parent(status, mother, father, left_home, i):
    """The slot of the parent person i lives with (the mother, else the father), or -1."""
    if left_home[i] == 0:
        if mother[i] != 0 and status[mother[i] - 1] != GONE:
            return mother[i] - 1
        if father[i] != 0 and status[father[i] - 1] != GONE:
            return father[i] - 1
    return -1


@nb.njit(cache=True, parallel=True)
def households(status, age, sex, partner, mother, father, household, left_home, size,
               counts, sizes, members):
    """Step 5: every person's household (the reference person's slot + 1), the persons
    partnered and living with a parent (``counts``) and the households by size
    (``sizes``; ``members``: int32, at least ``size`` slots, overwritten: the members
    counted at each reference slot). The households are found in parallel: each person's
    depends on links alone, never on another household; so are the partnered and those
    living with a parent, counted per chunk of slots (a single person whose household is
    not their own lives with a parent: a parent's household is never named by the child,
    and partners have left home)."""
    n_chunks = (size + FAMILY_CHUNK - 1) // FAMILY_CHUNK
    found = np.zeros((n_chunks, MAX_AGE + 1, 2, 2), dtype=np.int64)  # partnered, at home
    for c in nb.prange(n_chunks):
        for slot in range(c * FAMILY_CHUNK, min(size, (c + 1) * FAMILY_CHUNK)):
            i = np.int64(slot)  # mixed with links, an unsigned index would be a float
            if status[i] == GONE:
                household[i] = 0
                continue
            top = i  # follow the parents one lives with up to an adult who does not
            while left_home[top] == 0:  # (a range loop with a break here ran 16 times slower)
                parent = _home_parent(status, mother, father, left_home, top)
                if parent < 0:
                    break
                top = parent
            reference = top
            if partner[top] != 0:
                reference = min(reference, partner[top] - 1)
            household[i] = reference + 1
            if partner[i] != 0:
                found[c, age[i], sex[i], 0] += 1
            elif reference != i:
                found[c, age[i], sex[i], 1] += 1
    total = found.sum(axis=0)
    for a in range(MAX_AGE + 1):
        for s in range(2):
            counts[a, s, F_PARTNERED] += total[a, s, 0]
            counts[a, s, F_WITH_PARENT] += total[a, s, 1]
    # sizes: members by reference person
    members[:size] = 0
    for i in range(size):
        if household[i] != 0:
            members[household[i] - 1] += 1
    for i in range(size):
        if members[i] > 0:
            sizes[min(members[i], N_SIZES) - 1] += 1


@nb.njit(cache=True)
def family_year(pid, status, age, sex, partner, mother, father, household, left_home, size,
                seed, year, partnered, separation, leave_home, age_difference, age_spread,
                counts, sizes, survivor_kind, survivor_pension, spouse_pensions, members):
    """One year of family events for the persons of next year (after the year's deaths,
    emigrants and entrants), steps 1-5 of the module's docstring. ``partnered``,
    ``separation``, ``leave_home``, ``age_difference``, ``age_spread``: (age, sex) tables
    of the year; ``counts`` (age, sex, N_FAMILY_COUNTS) and ``sizes`` (N_SIZES,) are added
    to. ``spouse_pensions`` PENSION_ENDS: a partnership formed ends the partners' spouse's
    pensions (``survivor_kind``, ``survivor_pension``). ``members``: int32 scratch of at
    least ``size`` slots (:func:`households`)."""
    women, with_partner = np.zeros(MAX_AGE + 1), np.zeros(MAX_AGE + 1)
    _dissolutions(pid, status, age, sex, partner, mother, father, left_home, size, seed,
                  year, separation, leave_home, counts, women, with_partner)
    p_form = _formation_probability(women, with_partner, partnered)
    _form_partnerships(pid, status, age, sex, partner, left_home, np.int64(0), size, seed,
                       year, p_form, age_difference, age_spread, counts, rng.PARTNERSHIP_STREAMS,
                       survivor_kind, survivor_pension, spouse_pensions, members.view(np.uint8))
    households(status, age, sex, partner, mother, father, household, left_home,
               size, counts, sizes, members)


@nb.njit(cache=True)
def mothers_of_young_children(status, age, mother, size, child_age, out):
    """Flag (``out`` 1, else 0) each woman who is the linked mother of a child here below
    ``child_age`` (years, at 1 July): those the pension credits for child care
    (careers._care). Links to persons gone were cleared by the last :func:`family_year`."""
    out[:size] = 0
    for i in range(size):
        if status[i] != GONE and mother[i] > 0 and age[i] < child_age:
            out[mother[i] - 1] = 1


@nb.njit(cache=True)
def take_mothers(birth_flag, partner, size, n):
    """The ``n`` (or fewer) mothers flagged among slots 0..size-1, in slot order, as links
    (slot + 1, int64), with their partners' links (int32, 0 for none): the j-th baby's
    mother and father (:func:`link_newborns`). Clears the flags, in the same pass: NumPy's
    flatnonzero and a clearing took 2.7 ms a year of a 1,000,000-person run."""
    mothers = np.empty(n, dtype=np.int64)
    fathers = np.empty(n, dtype=np.int32)
    j = 0
    for i in range(size):
        if birth_flag[i] != 0:
            birth_flag[i] = 0
            if j < n:
                mothers[j], fathers[j] = i + 1, partner[i]
            j += 1
    return mothers[:min(j, n)], fathers[:min(j, n)]


@nb.njit(cache=True)
def link_newborns(pid, status, mother, father, size, first_slot, first_id, mothers,
                  fathers):
    """Link the babies created from slot ``first_slot`` (ids from ``first_id``, the j-th
    born to the j-th of ``mothers``, whose partners then were ``fathers``: links, slot + 1
    or 0)."""
    for i in range(first_slot, size):
        j = pid[i] - first_id
        if status[i] != GONE and 0 <= j < len(mothers):
            mother[i], father[i] = mothers[j], fathers[j]


@nb.njit(cache=True)
def _women_by_age(status, sex, age, lo, hi):
    """The women here among slots lo..hi-1 by age: (first index by age (MAX_AGE + 2,),
    their slots in slot order within each age)."""
    n = np.zeros(MAX_AGE + 2, dtype=np.int64)
    for i in range(lo, hi):
        if status[i] != GONE and sex[i] == FEMALE:
            n[age[i] + 1] += 1
    first = np.cumsum(n)
    slots = np.empty(first[-1], dtype=np.int64)
    filled = first[:-1].copy()
    for i in range(lo, hi):
        if status[i] != GONE and sex[i] == FEMALE:
            slots[filled[age[i]]] = i
            filled[age[i]] += 1
    return first, slots


@nb.njit(cache=True)
def _drawn_mother(seed, person, year, a, asfr, fertility_total, first, slots):
    """A mother for person ``person`` aged ``a``: her age at the birth drawn from the
    fertility schedule ``asfr`` (age,), then one of the women of her age now (``first``,
    ``slots``: _women_by_age); her slot, or -1 when there is none of that age."""
    u = rng.uniform(seed, rng.MOTHER_AGE, person, year) * fertility_total
    at_birth = len(asfr) - 1
    cumulative = 0.0
    for m in range(len(asfr)):
        cumulative += asfr[m]
        if u < cumulative:
            at_birth = m
            break
    now = a + at_birth
    if now > MAX_AGE or first[now + 1] == first[now]:
        return -1
    n = first[now + 1] - first[now]
    return slots[first[now] + int(rng.uniform(seed, rng.MOTHER_PICK, person, year) * n)]


def year_tables(families: dict[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """The families table's (age, sex) columns of year k (params.Assumptions.families:
    (year, age, sex) each), contiguous for the kernels."""
    return {name: np.ascontiguousarray(values[k]) for name, values in families.items()}


@nb.njit(cache=True)
def link_arriving_families(pid, status, age, sex, partner, mother, father, left_home,
                           first_slot, size, seed, year, asfr, partnered, age_difference,
                           age_spread):
    """Immigrants arrive with their families (slots first_slot..size-1, the year's
    immigrants):

    - couples: each immigrant woman arrives with a partner with the probability the
      families table's ``partnered`` (age, sex) gives her age, an immigrant man of the year
      of a drawn age (as step 4 draws it, on streams of their own), when one is single at
      that age or within AGE_SEARCH years;
    - children: each immigrant under ARRIVING_CHILD_AGE gets a mother among the year's
      immigrant women, of the age the fertility ``asfr`` (age,) makes likely at the birth,
      and her partner as father (no mother when no immigrant woman has that age: then the
      child lives alone, as an orphan does).

    The partnerships are not counted as formed this year: they came formed."""
    _form_partnerships(pid, status, age, sex, partner, left_home, first_slot, size, seed,
                       year, np.ascontiguousarray(partnered[:, FEMALE]), age_difference,
                       age_spread, np.zeros((MAX_AGE + 1, 2, N_FAMILY_COUNTS), dtype=np.int64),
                       rng.ARRIVING_PARTNERSHIP_STREAMS, np.zeros(0, dtype=np.uint8),
                       np.zeros(0, dtype=np.float32), np.int64(PENSIONS_IGNORED),
                       np.empty(size - first_slot, dtype=np.uint8))
    fertility_total = asfr.sum()
    if fertility_total <= 0:
        return
    first, slots = _women_by_age(status, sex, age, first_slot, size)
    for i in range(first_slot, size):
        if status[i] != GONE and age[i] < ARRIVING_CHILD_AGE:
            j = _drawn_mother(seed, pid[i], year, age[i], asfr, fertility_total, first,
                              slots)
            if j >= 0:
                mother[i] = j + 1
                father[i] = partner[j]


@nb.njit(cache=True)
def initial_families(pid, status, age, sex, partner, mother, father, household, left_home,
                     size, seed, base_year, partnered, leave_home, age_difference,
                     age_spread, asfr, counts, sizes, survivor_kind, spouse_pensions, members):
    """The base year's families: partnerships formed from nobody partnered to the
    ``partnered`` shares (step 4); each person under MAX_CHILD_AGE still living with a
    parent with the chance of not having left by their age (``leave_home`` at every younger
    age), linked to a mother of the age the fertility ``asfr`` (age,) makes likely at their
    birth, drawn among the women of that age, and to her partner as father.
    ``spouse_pensions`` PENSIONERS_SINGLE: the base year's spouse's pensioners
    (``survivor_kind``) have lost their partner and stay single; the other women of their
    age form partnerships with a chance raised to keep the ``partnered`` share where they
    can. ``members``: int32 scratch of at least ``size`` slots (:func:`households`)."""
    women = np.zeros(MAX_AGE + 1)  # nobody has a partner yet: every man is single
    kept = np.zeros(MAX_AGE + 1)  # women who stay single
    for i in range(size):
        if status[i] != GONE and sex[i] == FEMALE:
            women[age[i]] += 1.0
            if _kept_single(i, survivor_kind, spouse_pensions):
                kept[age[i]] += 1.0
    p_form = np.zeros(MAX_AGE + 1)  # (_formation_probability, the kept ones not asking)
    for a in range(MIN_PARTNER_AGE, MAX_AGE + 1):
        if women[a] > kept[a]:
            p_form[a] = min(max(partnered[a, FEMALE] * women[a] / (women[a] - kept[a]), 0.0),
                            1.0)
    _form_partnerships(pid, status, age, sex, partner, left_home, np.int64(0), size, seed,
                       base_year, p_form, age_difference, age_spread, counts,
                       rng.INITIAL_PARTNERSHIP_STREAMS, survivor_kind,
                       np.zeros(0, dtype=np.float32), spouse_pensions, members.view(np.uint8))
    for f in range(N_FAMILY_COUNTS):  # the base year's partnerships are not this year's
        for a in range(MAX_AGE + 1):
            counts[a, 0, f] = counts[a, 1, f] = 0
    first, slots = _women_by_age(status, sex, age, 0, size)
    fertility_total = asfr.sum()
    for i in range(size):
        if status[i] == GONE:
            continue
        left_home[i] = 1
        a = age[i]
        if partner[i] != 0 or a >= MAX_CHILD_AGE or fertility_total <= 0:
            continue
        stay = 1.0
        for x in range(a):
            stay *= 1.0 - leave_home[x, sex[i]]
        if rng.uniform(seed, rng.AT_HOME, pid[i], base_year) >= stay:
            continue
        j = _drawn_mother(seed, pid[i], base_year, a, asfr, fertility_total, first, slots)
        if j >= 0:
            left_home[i] = 0
            mother[i], father[i] = j + 1, partner[j]
    households(status, age, sex, partner, mother, father,
               household, left_home, size, counts, sizes, members)


@nb.njit(cache=True, parallel=True)
def family_findings(status, sex, partner, mother, father, household, left_home, size):
    """Counts of violations of the family identities, in the order of FINDINGS: every link
    inside the store; my partner's partner is me, of the other sex; no link to anyone gone;
    my household is that of the parent I live with, else my couple's (named by the partner
    in the lower slot) or my own, and its reference person is here and in it. (Plain
    branches: the same tests as small functions returning 0 or 1 ran 13 times slower.)"""
    outside = unreturned = same_sex = gone = wrong_household = 0
    for slot in nb.prange(size):
        i = np.int64(slot)  # prange's index is unsigned: mixed with links it would be a float
        if status[i] == GONE:
            continue
        p, m, f, h = partner[i], mother[i], father[i], household[i]
        if p < 0 or p > size or m < 0 or m > size or f < 0 or f > size or h < 0 or h > size:
            outside += 1
            continue
        if p != 0:
            if status[p - 1] == GONE:
                gone += 1
            else:
                if partner[p - 1] != i + 1:
                    unreturned += 1
                if sex[p - 1] == sex[i]:
                    same_sex += 1
        if m != 0 and status[m - 1] == GONE:
            gone += 1
        if f != 0 and status[f - 1] == GONE:
            gone += 1
        if left_home[i] == 0 and m != 0 and status[m - 1] != GONE:
            expected = household[m - 1]
        elif left_home[i] == 0 and f != 0 and status[f - 1] != GONE:
            expected = household[f - 1]
        elif p != 0:
            expected = min(i, p - 1) + 1
        else:
            expected = i + 1
        if h != expected or status[h - 1] == GONE or household[h - 1] != h:
            wrong_household += 1
    return np.array([outside, unreturned, same_sex, gone, wrong_household])
