"""A small synthetic model written as real files, for tests that need a valid model to
start from (and bad-input tests that break one thing in it)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

#: The default model's folder and its assumption sets, as a test copies them.
DEFAULT_MODEL_FOLDERS = ("models/default", "assumptions/ghana-wpp2024",
                         "assumptions/illustrative-lmic", "assumptions/families-usa-ssa2024")

AGES = range(101)
SEXES = ("male", "female")

MODEL_TOML = """\
[model]
name = "small"
title = "Small synthetic model"
base_year = {base}
end_year = {end}
currency = "LCU"
assumptions = "assumptions"

[economy]
gdp = 1.0e9
average_earnings = 10000.0
poverty_line = 2500.0
government_revenue = 0.18

[[schemes]]
id = "pension"
type = "db_old_age_pension"
name = "Old-age pension"

[schemes.parameters]
contribution_rate = 0.10
contribution_persistence = 0.8
accrual_rate = 0.02
minimum_service = 10
retirement_age = {{ male = 62, female = 60 }}
minimum_pension = {{ value = 1500.0, indexation = "prices" }}
admin_cost_rate = 0.05
initial_reserve = 5.0e7
start_year = {start}

[[schemes]]
id = "child_benefit"
type = "universal_benefit"
name = "Child benefit"

[schemes.parameters]
min_age = 0
max_age = 14
benefit = 600.0
take_up = 0.9
"""

HEADER = """\
[assumption_set]
name = "small"

[tables.population]
file = "population.csv"

[tables.mortality]
file = "mortality.csv"

[tables.fertility]
file = "fertility.csv"

[tables.sex_ratio_at_birth]
file = "srb.csv"

[tables.migration]
file = "migration.csv"

[tables.economy]
file = "economy.csv"

[tables.labour]
file = "labour.csv"
"""


def gompertz_mx(age: np.ndarray, sex: str) -> np.ndarray:
    """A plausible single-age mortality schedule (infant bump + Gompertz)."""
    level = 1.0 if sex == "male" else 0.7
    return level * (0.00005 * np.exp(0.095 * age) + 0.03 * np.exp(-2.0 * age) + 0.0005)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def set_csv_column(path: Path, column: str, value) -> None:
    """Rewrite ``column`` of the CSV file ``path`` with ``value(row)`` for every row
    (``row``: the row's fields as strings, by column name)."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = [dict(row, **{column: value(row)}) for row in reader]
    write_csv(path, header, [[row[name] for name in header] for row in rows])


def refusal(folder: Path) -> str:
    """The message of the AssumptionError that loading the model in ``folder`` raises
    (the test fails if the model loads)."""
    import pytest

    import spfsim
    from spfsim.errors import AssumptionError

    with pytest.raises(AssumptionError) as caught:
        spfsim.load_model(folder)
    return str(caught.value)


def write_small_model(folder: Path, base: int = 2025, end: int = 2045,
                      start: int = 1995) -> Path:
    """Write a complete valid model to ``folder`` and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.toml").write_text(MODEL_TOML.format(base=base, end=end, start=start))
    adir = folder / "assumptions"
    adir.mkdir(exist_ok=True)
    (adir / "assumptions.toml").write_text(HEADER)
    years = range(base, end + 1)
    ages = np.arange(101)
    pop = {s: 10000.0 * np.exp(-0.02 * ages) * (1.0 if s == "male" else 1.02) for s in SEXES}
    write_csv(adir / "population.csv", ["age", "sex", "population"],
              [[a, s, round(pop[s][a], 3)] for s in SEXES for a in AGES])
    write_csv(adir / "mortality.csv", ["age", "sex", "mx"],
              [[a, s, f"{gompertz_mx(np.array(a), s):.8f}"] for s in SEXES for a in AGES])
    write_csv(adir / "fertility.csv", ["year", "age", "asfr"],
              [[y, a, 0.08 if 20 <= a <= 39 else 0.02] for y in years for a in range(15, 50)])
    write_csv(adir / "srb.csv", ["srb"], [[1.05]])
    write_csv(adir / "migration.csv", ["year", "age", "sex", "net_migration"],
              [[y, a, s, 20.0 if 20 <= a <= 35 else 0.0]
               for y in years for a in AGES for s in SEXES])
    write_csv(adir / "economy.csv", ["year", "inflation", "real_wage_growth", "interest_rate"],
              [[y, 0.03, 0.015, 0.05] for y in years])
    write_csv(adir / "labour.csv",
              ["age", "sex", "participation", "unemployment", "coverage", "relative_earnings"],
              [[a, s, 0.8 if s == "male" else 0.6, 0.05, 0.4, 1.0 + 0.01 * (a - 15)]
               for a in range(15, 70) for s in SEXES])
    return folder


FAMILY_TABLE = """
[tables.families]
file = "families.csv"
"""


def families_model(folder, partnered=0.6, separation=0.02, leave_home=0.1, difference=3.0,
                   spread=2.0, **model):
    """The small model with a families table (the same rates at every adult age)."""
    write_small_model(folder, **model)
    adir = folder / "assumptions"
    with (adir / "assumptions.toml").open("a") as handle:
        handle.write(FAMILY_TABLE)
    rows = [[a, s, partnered if a >= 20 else 0.0, separation, leave_home if a >= 15 else 0.0,
             difference if s == "female" else -difference, spread]
            for a in range(101) for s in ("male", "female")]
    write_csv(adir / "families.csv", ["age", "sex", "partnered", "separation", "leave_home",
                                      "partner_age_difference", "partner_age_spread"], rows)
    return folder
