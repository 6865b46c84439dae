"""The drug catalog: reading the data file and resolving what a clinician types."""

import csv
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
    return " ".join(str(text).strip().lower().split())


def resolve_drug(text: str):
    """The catalog drug named by a generic or brand name, case-insensitively, or None."""
    from .models import Drug

    wanted = normalise(text)
    if not wanted:
        return None
    exact = Drug.objects.filter(name=wanted).first()
    if exact is not None:
        return exact
    for drug in Drug.objects.exclude(brand_names=[]):
        if wanted in {normalise(brand) for brand in drug.brand_names}:
            return drug
    return None
