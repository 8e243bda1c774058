"""``spfsim init``: a model folder of one's own, complete and valid, to edit.

Copying ``models/default`` does not work: its ``assumptions`` paths point into the
repository (``../../assumptions/...``). :func:`init_model` writes a self-contained folder
instead:

- ``model.toml``: the default model's file, every comment kept, its ``assumptions`` paths
  pointing inside the folder;
- ``assumptions/<demography>/``: the default model's demography (Ghana, UN WPP 2024) or,
  with ``country``, that country's imported from the WPP 2024 files (``spfsim import-wpp``);
- ``assumptions/<economy>/``: the default model's illustrative economy and labour market;
- ``assumptions/<families>/``: the default model's families (the micro engine's);
- ``reforms/``: the default model's example reforms;
- ``README.md``: what the folder holds and what to replace first.

With ``country``, the economy's levels in ``model.toml`` (GDP and the pension's initial
reserve, both in local currency) are scaled by the ratio of the country's base population to
the default model's, so that GDP per person and the reserve per person stay the default's
illustrative values until the user enters the country's own: a projection then runs, and no
figure of it describes the country's economy.

The folder is written under a temporary name beside its target and renamed into place, so a
failure leaves nothing half-written.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

from .errors import SpfsimError
from .model import default_model_path

__all__ = ["init_model"]

ASSUMPTIONS_DIR = "assumptions"
#: model.toml entries scaled with the population for another country (local currency)
SCALED_WITH_POPULATION = ("gdp", "initial_reserve")

README = """# {title}

Written by `spfsim init` from spfsim's default model{country_note}. Run it with

    spfsim run {folder}

and edit it freely: docs/model-format.md describes every entry.

- `model.toml`: the model (horizon, economy, schemes, stochastic assumptions), with the
  default model's comments.
- `assumptions/{demography}/`: demography: {demography_note}.
- `assumptions/{economy}/`: economy, labour market and disability rates: the default
  model's **illustrative** values, not estimates for any country.
- `assumptions/{families}/`: families for the micro engine: shares married by age and sex
  of the United States (the default model's; see its README), to replace with the
  country's census or survey shares.
- `reforms/`: example reforms (`spfsim compare {folder} --reform reforms/NAME.toml`).

Replace first: the `[economy]` section of `model.toml` (GDP, average earnings, poverty line,
government revenue, in the country's currency){scaled_note}, the economic series and
labour-market tables of `assumptions/{economy}/`, and the schemes' parameters (each with the
law or decree it comes from).
"""


def init_model(folder: str | Path, country: str | int | None = None,
               data: str | Path | None = None, base_year: int = 2025,
               end_year: int = 2100) -> Path:
    """Write a new model folder ``folder`` (which must not exist, or be empty) and return
    its path. ``country``: an UN M49 code or ISO alpha-3 code whose demography is imported
    from the WPP 2024 files in ``data`` (the data folder, as for ``spfsim import-wpp``),
    over ``base_year``-``end_year``; None: the default model's demography and horizon."""
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise SpfsimError(f"{target} exists and is not an empty folder: spfsim init writes "
                          "a new model folder")
    source = default_model_path()
    text = (source / "model.toml").read_text(encoding="utf-8")
    sets = [(source / p).resolve() for p in tomllib.loads(text)["model"]["assumptions"]]
    demography = _import_country(country, data, base_year, end_year) if country else None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        names = _write_assumptions(staging / ASSUMPTIONS_DIR, sets, demography)
        text = _point_inside(text, names)
        text = re.sub(r'^name = "[^"]*"', f'name = "{_slug(target.name)}"', text, count=1,
                      flags=re.MULTILINE)
        if demography is not None:
            text = _for_country(text, demography, sets[0], base_year, end_year)
        (staging / "model.toml").write_text(text, encoding="utf-8")
        if (source / "reforms").is_dir():
            shutil.copytree(source / "reforms", staging / "reforms")
        (staging / "README.md").write_text(_readme(target, demography, names),
                                           encoding="utf-8")
        if target.exists():
            target.rmdir()  # empty: checked above
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _import_country(country: str | int, data: str | Path | None, base_year: int,
                    end_year: int):
    """The WPP 2024 demography of ``country`` (M49 or ISO alpha-3)."""
    from .demography.wpp import from_wpp
    from .spf.macro import CountryCodes
    from .spf.run import find_data_dir

    code = CountryCodes.load().find(str(country))
    if code is None:
        raise SpfsimError(f"--country {country}: not a country or area of WPP 2024 (give an "
                          "UN M49 code such as 288 or an ISO alpha-3 code such as GHA)")
    return from_wpp(find_data_dir(data), code.m49, base_year, end_year)


def _write_assumptions(folder: Path, sets: list[Path], demography) -> list[str]:
    """Copy the default model's assumption sets into ``folder`` (the first, demographic
    one replaced by ``demography`` when given); their folder names, in order."""
    from .demography.wpp import write_wpp_assumptions

    folder.mkdir()
    names = []
    for k, path in enumerate(sets):
        if k == 0 and demography is not None:
            name = f"{_slug(demography.name)}-wpp2024"
            write_wpp_assumptions(demography, folder / name)
        else:
            name = path.name
            shutil.copytree(path, folder / name)
        names.append(name)
    return names


def _point_inside(text: str, names: list[str]) -> str:
    """model.toml's ``assumptions = [...]`` entry pointing at the copies."""
    listed = ", ".join(f'"{ASSUMPTIONS_DIR}/{name}"' for name in names)
    new, count = re.subn(r"^assumptions\s*=\s*\[[^\]]*\]", f"assumptions = [{listed}]", text,
                         count=1, flags=re.MULTILINE)
    if count != 1:
        raise SpfsimError("the default model's model.toml has no assumptions entry to rewrite")
    return new


def _for_country(text: str, demography, default_set: Path, base_year: int,
                 end_year: int) -> str:
    """The model's name, horizon and population-sized levels for the country."""
    with (default_set / "population.csv").open(encoding="utf-8", newline="") as handle:
        default_population = sum(float(row["population"]) for row in csv.DictReader(handle))
    ratio = float(demography.base_population.sum()) / default_population
    replacements = {
        r"^# demography: .*$": f"# demography: {demography.name}, UN WPP 2024 (spfsim init); "
                               "economy and labour: illustrative",
        r'^title = "[^"]*"': f'title = "{demography.name}: a model to fill in (illustrative '
                             'economy and schemes)"',
        r"^base_year = \d+": f"base_year = {base_year}",
        r"^end_year = \d+": f"end_year = {end_year}",
    }
    for pattern, value in replacements.items():
        text = re.sub(pattern, value, text, count=1, flags=re.MULTILINE)
    for key in SCALED_WITH_POPULATION:
        text = re.sub(rf"^({key}\s*=\s*)([0-9.eE+-]+)",
                      lambda m: f"{m.group(1)}{float(m.group(2)) * ratio:.4g}", text,
                      count=1, flags=re.MULTILINE)
    header = (f"# spfsim model for {demography.name} (UN M49 {demography.country}), written "
              "by spfsim init.\n# Demography: UN WPP 2024. Economy, labour market and schemes: "
              "the default model's\n# illustrative values (GDP and the pension's reserve "
              f"scaled by the population, x {ratio:.4g}):\n# replace them with the country's "
              "own. The format is documented in docs/model-format.md.\n")
    body = text.split("\n[model]", 1)[1]
    return f"{header}\n[model]{body}"


def _readme(target: Path, demography, names: list[str]) -> str:
    if demography is None:
        country_note, demography_note, scaled_note = (
            "", "Ghana, UN WPP 2024 (the default model's)", "")
        title = "A model of one's own"
    else:
        country_note = f" for {demography.name} (UN M49 {demography.country})"
        demography_note = f"{demography.name}, imported from UN WPP 2024"
        scaled_note = "; GDP and the pension's initial reserve were scaled by the population"
        title = f"{demography.name}: a model of one's own"
    return README.format(title=title, country_note=country_note, folder=target.name,
                         demography=names[0], demography_note=demography_note,
                         economy=names[1], families=names[2], scaled_note=scaled_note)


def _slug(name: str) -> str:
    """A folder-friendly name: lower case, letters and digits joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "country"
