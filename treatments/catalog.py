"""The drug catalog: reading the data file and resolving what a clinician types."""

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

DRUGS_FILE = Path(__file__).parent / "data" / "drugs.csv"


def read_catalog(path: Path = DRUGS_FILE) -> list[dict]:
    def number(text):
        return Decimal(text) if text.strip() else None

    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {
                "name": row["name"].strip().lower(),
                "drug_class": row["drug_class"].strip(),
                "is_antidepressant": row["is_antidepressant"].strip() == "true",
                "is_augmentation_agent": row["is_augmentation_agent"].strip() == "true",
                "min_adequate_dose_mg": number(row["min_adequate_mg_per_day"]),
                "max_dose_mg": number(row["usual_max_mg_per_day"]),
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
COMMON_ANTIDEPRESSANTS = frozenset({
    "citalopram", "escitalopram", "fluoxetine", "paroxetine", "sertraline",
    "venlafaxine", "desvenlafaxine", "duloxetine",
    "mirtazapine", "bupropion",
})

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

    @property
    def by_brand(self) -> bool:
        return self.matched != self.drug.name


def match_drug(wanted: str, drug) -> DrugMatch | None:
    """How the normalised text `wanted` matches the drug's generic name or a brand: the best
    rank, the generic name winning a tie."""
    best = None
    for name in (drug.name, *drug.brand_names):
        candidate = normalise(name)
        if candidate == wanted:
            rank = EXACT
        elif candidate.startswith(wanted):
            rank = PREFIX
        elif wanted in candidate:
            rank = SUBSTRING
        else:
            continue
        if best is None or rank < best.rank:
            best = DrugMatch(drug, rank, name)
    return best


def search_drugs(text: str, drugs) -> list[DrugMatch]:
    """The drugs whose generic or brand name matches what was typed, best first: exact matches,
    then names starting with the text, then names containing it; within a rank the common
    antidepressants, then the other antidepressants, then the rest, each alphabetically.

    `drugs` are any values with `name`, `brand_names` and `is_antidepressant` (Drug rows or the
    data file's rows). static/js/drug_picker.js applies these same rules in the browser.
    Empty text matches every drug as a prefix, so it lists the whole catalog in order.
    """
    wanted = normalise(text)
    matches = [match for drug in drugs if (match := match_drug(wanted, drug)) is not None]
    return sorted(matches, key=lambda m: (m.rank, commonness(m.drug), m.drug.name))


def resolve_drug(text: str):
    """The catalog drug named exactly by a generic or brand name, case-insensitively, or None:
    the first exact match of `search_drugs`."""
    from .models import Drug

    if not normalise(text):
        return None
    matches = search_drugs(text, Drug.objects.all())
    if matches and matches[0].rank == EXACT:
        return matches[0].drug
    return None


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
        "brands": list(drug.brand_names),
        "drug_class": drug.drug_class,
        "is_antidepressant": drug.is_antidepressant,
        "dose_hint": drug.dose_hint(),
        "common": commonness(drug),
    }
