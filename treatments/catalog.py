"""The drug catalog: reading the data file and resolving what a clinician types."""

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
DRUGS_FILE = DATA_DIR / "drugs.csv"
FORMULATIONS_FILE = DATA_DIR / "formulations.csv"
COMBINATIONS_FILE = DATA_DIR / "combinations.csv"


def _number(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def read_catalog(path: Path = DRUGS_FILE) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {
                "name": row["name"].strip().lower(),
                "drug_class": row["drug_class"].strip(),
                "is_antidepressant": row["is_antidepressant"].strip() == "true",
                "is_augmentation_agent": row["is_augmentation_agent"].strip() == "true",
                "min_adequate_dose_mg": _number(row["min_adequate_mg_per_day"]),
                "max_dose_mg": _number(row["usual_max_mg_per_day"]),
                "brand_names": [b.strip() for b in row["brand_names"].split(";") if b.strip()],
                "min_dose_source": row["min_dose_source"].strip(),
                "max_dose_source": row["max_dose_source"].strip(),
            }
            for row in csv.DictReader(handle)
        ]


def sync_catalog(drug_model, path: Path = DRUGS_FILE, using: str = "default") -> int:
    """Create or update every drug of the data file; used by data migrations, which pass the
    database they run on (`migrate --database owner` in production)."""
    rows = read_catalog(path)
    for row in rows:
        drug_model.objects.using(using).update_or_create(name=row.pop("name"), defaults=row)
    return len(rows)


@dataclass(frozen=True)
class Formulation:
    """A form of a drug whose figures differ from the catalog's standard ones (a weekly
    capsule, a controlled-release tablet, a patch), or that is not an antidepressant at all
    (oral selegiline). `dose_unit` is how its dose is entered: "mg/week" for a weekly capsule."""

    drug: str
    key: str
    label: str
    is_antidepressant: bool
    min_adequate_dose_mg: Decimal | None
    max_dose_mg: Decimal | None
    dose_unit: str
    min_dose_source: str
    max_dose_source: str
    note: str = ""


def read_formulations(path: Path = FORMULATIONS_FILE) -> tuple[Formulation, ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(
            Formulation(
                drug=row["drug"].strip().lower(),
                key=row["formulation"].strip(),
                label=row["label"].strip(),
                is_antidepressant=row["is_antidepressant"].strip() == "true",
                min_adequate_dose_mg=_number(row["min_adequate_dose_mg"]),
                max_dose_mg=_number(row["max_dose_mg"]),
                dose_unit=row["dose_unit"].strip(),
                min_dose_source=row["min_dose_source"].strip(),
                max_dose_source=row["max_dose_source"].strip(),
                note=row["note"].strip(),
            )
            for row in csv.DictReader(handle)
        )


@cache
def formulations() -> tuple[Formulation, ...]:
    """The formulations of the data file (read once per process)."""
    return read_formulations()


def formulations_of(drug_name: str) -> list[Formulation]:
    """The formulations a trial of `drug_name` may name, in file order (none for most drugs)."""
    return [form for form in formulations() if form.drug == drug_name]


def formulation(drug_name: str, key: str) -> Formulation | None:
    """The formulation `key` of the drug, or None (the standard form, or no such formulation)."""
    return next((form for form in formulations_of(drug_name) if form.key == key), None)


def with_formulation(drug_facts, key: str):
    """The drug's facts (trd.DrugFacts) for a trial of formulation `key`: its minimum adequate
    dose and antidepressant status; unchanged for the standard form ("") or an unknown key.
    For code that builds the rule's facts without a Trial row (exports, the dashboard)."""
    form = formulation(drug_facts.name, key) if key else None
    if form is None:
        return drug_facts
    return drug_facts._replace(
        is_antidepressant=form.is_antidepressant,
        min_adequate_dose_mg=form.min_adequate_dose_mg,
    )


def formulation_choices() -> list[tuple[str, str]]:
    """Every formulation key with a label naming its drug, for a select ("" is the standard)."""
    return [(form.key, f"{form.drug}: {form.label}") for form in formulations()]


@dataclass(frozen=True)
class Combination:
    """A brand that holds several drugs (Symbyax: olanzapine + fluoxetine)."""

    brand: str
    components: tuple[str, ...]  # generic names, as in drugs.csv
    note: str = ""

    def partners_of(self, name: str) -> tuple[str, ...]:
        return tuple(other for other in self.components if other != name)

    def describe(self) -> str:
        return f"{self.brand} is {' + '.join(self.components)}"


def read_combinations(path: Path = COMBINATIONS_FILE) -> tuple[Combination, ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(
            Combination(
                brand=row["brand"].strip(),
                components=tuple(
                    part.strip().lower() for part in row["components"].split(";") if part.strip()
                ),
                note=row["note"].strip(),
            )
            for row in csv.DictReader(handle)
        )


@cache
def combinations() -> tuple[Combination, ...]:
    """The combination brands of the data file (read once per process)."""
    return read_combinations()


def find_combination(text: str) -> Combination | None:
    """The combination brand named exactly (case-insensitively) by `text`, or None."""
    wanted = normalise(text)
    return next((c for c in combinations() if normalise(c.brand) == wanted), None)


def normalise(text: str) -> str:
    """Lower case, outer spaces dropped, inner runs of spaces made one (static/js/drug_picker.js
    does the same)."""
    return " ".join(str(text).strip().lower().split())


# The antidepressants a clinician most often records, offered first when several drugs match.
# Sources: "What Causes Treatment Resistant Depression" (SSRIs are what many clinicians start
# with; SNRIs work about as well with milder side effects), "Causes and Treatment Options for
# TRD" (SNRIs and atypical antidepressants as the classes tried next) and "Understanding and
# Managing TRD in the U.S." (venlafaxine and duloxetine by name). Hence the five SSRIs in common
# use, three SNRIs, and mirtazapine and bupropion as the atypical antidepressants (the documents
# name that class, not these two drugs). Fluvoxamine, levomilnacipran and milnacipran are left out
# on purpose: rarely used for depression, and a rare drug offered before a common one is how a
# wrong pick happens.
COMMON_ANTIDEPRESSANTS = frozenset(
    {
        "citalopram",
        "escitalopram",
        "fluoxetine",
        "paroxetine",
        "sertraline",
        "venlafaxine",
        "desvenlafaxine",
        "duloxetine",
        "mirtazapine",
        "bupropion",
    }
)

COMMON, OTHER_ANTIDEPRESSANT, NOT_ANTIDEPRESSANT = 0, 1, 2
EXACT, PREFIX, SUBSTRING = 0, 1, 2


def commonness(drug) -> int:
    """0 for a common antidepressant, 1 for another antidepressant, 2 for any other agent."""
    if drug.name in COMMON_ANTIDEPRESSANTS:
        return COMMON
    return OTHER_ANTIDEPRESSANT if drug.is_antidepressant else NOT_ANTIDEPRESSANT


def common_first(drugs) -> list:
    """The drugs in the order a picker offers them: common, then alphabetical."""
    return sorted(drugs, key=lambda drug: (commonness(drug), drug.name))


@dataclass(frozen=True)
class DrugMatch:
    drug: object
    rank: int  # EXACT, PREFIX or SUBSTRING
    matched: str  # the generic or brand name that matched, as written in the catalog
    # The other components when `matched` is a combination brand holding this drug.
    with_drugs: tuple[str, ...] = field(default=())

    @property
    def by_brand(self) -> bool:
        return self.matched != self.drug.name

    @property
    def by_combination(self) -> bool:
        return bool(self.with_drugs)

    @property
    def label(self) -> str:
        """How the match reads in a list: "Zoloft → sertraline",
        "Symbyax → fluoxetine (with olanzapine)"."""
        if not self.by_brand:
            return self.drug.name
        partners = f" (with {' + '.join(self.with_drugs)})" if self.with_drugs else ""
        return f"{self.matched} → {self.drug.name}{partners}"


def _rank(wanted: str, name: str) -> int | None:
    candidate = normalise(name)
    if candidate == wanted:
        return EXACT
    if candidate.startswith(wanted):
        return PREFIX
    if wanted in candidate:
        return SUBSTRING
    return None


def match_drug(wanted: str, drug) -> DrugMatch | None:
    """How the normalised text `wanted` matches the drug's generic name or a brand: the best
    rank, the generic name winning a tie."""
    best = None
    for name in (drug.name, *drug.brand_names):
        rank = _rank(wanted, name)
        if rank is not None and (best is None or rank < best.rank):
            best = DrugMatch(drug, rank, name)
    return best


def match_combination(wanted: str, drug) -> DrugMatch | None:
    """How `wanted` matches a combination brand holding the drug (Symbyax for fluoxetine)."""
    best = None
    for combination in combinations():
        if drug.name not in combination.components:
            continue
        rank = _rank(wanted, combination.brand)
        if rank is not None and (best is None or rank < best.rank):
            best = DrugMatch(drug, rank, combination.brand, combination.partners_of(drug.name))
    return best


def search_drugs(text: str, drugs) -> list[DrugMatch]:
    """The drugs whose generic or brand name matches what was typed, best first: exact matches,
    then names starting with the text, then names containing it; within a rank the common
    antidepressants, then the other antidepressants, then the rest, each alphabetically.

    `drugs` are any values with `name`, `brand_names` and `is_antidepressant` (Drug rows or the
    data file's rows). static/js/drug_picker.js applies these same rules in the browser.
    Empty text matches every drug as a prefix, so it lists the whole catalog in order.
    A combination brand (treatments/data/combinations.csv) lists each of its components, the
    match naming the others ("Symbyax → fluoxetine (with olanzapine)"); a drug's own names win
    over a combination brand of the same rank.
    """
    wanted = normalise(text)
    matches = []
    for drug in drugs:
        own = match_drug(wanted, drug)
        combined = match_combination(wanted, drug) if wanted else None
        if combined is not None and (own is None or combined.rank < own.rank):
            own = combined
        if own is not None:
            matches.append(own)
    return sorted(matches, key=lambda m: (m.rank, commonness(m.drug), m.drug.name))


def drug_label(drug) -> str:
    """How a drug reads in a plain list: generic name first, so a browser's type-ahead on the
    generic name finds it, then its brands and class."""
    brands = f" ({', '.join(drug.brand_names)})" if drug.brand_names else ""
    kind = "" if drug.is_antidepressant else " (not an antidepressant)"
    return f"{drug.name}{brands} — {drug.drug_class}{kind}"


def picker_entry(drug) -> dict:
    """What the drug picker's script needs of one Drug row."""
    return {
        "id": str(drug.pk),
        "name": drug.name,
        # Combination brands holding the drug, named with their partners, so that typing
        # "Symbyax" offers each component (never picked by an exact match: see resolve_drug).
        "brands": list(drug.brand_names)
        + [
            f"{c.brand} (with {' + '.join(c.partners_of(drug.name))})"
            for c in combinations()
            if drug.name in c.components
        ],
        "drug_class": drug.drug_class,
        "is_antidepressant": drug.is_antidepressant,
        "dose_hint": drug.dose_hint(),
        "common": commonness(drug),
    }
