"""Next-line options for discussion, loaded from ``data/options.yaml``.

Pure Python (stdlib + PyYAML, no Django) so it can be used and tested anywhere. The YAML file is
reviewed clinical content derived from five named source documents; this module only loads and
validates it and works out which options a patient has already tried. The app informs, it never
prescribes: these are options to discuss, not recommendations.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

OPTIONS_FILE = Path(__file__).parent / "data" / "options.yaml"

OPTION_KEYS: tuple[str, ...] = (
    "switch_antidepressant",
    "augmentation",
    "lamotrigine",
    "stimulants",
    "psychotherapy",
    "ect",
    "tms",
    "ketamine_esketamine",
    "vns",
    "dbs",
    "mst",
    "psychedelic_trials",
    "lifestyle",
    "review_diagnosis",
    "review_adherence",
    "review_interactions_and_conditions",
    "pharmacogenomic_testing",
)

# The short titles of the five source documents, exactly as the seeds README gives them.
SOURCE_TITLES: frozenset[str] = frozenset(
    {
        "Causes and Treatment Options for TRD",
        "What Causes Treatment Resistant Depression",
        "Understanding TRD: What You Need to Know",
        "Understanding and Managing TRD in the U.S.",
        "What is Treatment Resistant Depression (TRD)?",
    }
)

CATEGORIES: frozenset[str] = frozenset(
    {"medication", "procedure", "psychotherapy", "research", "lifestyle", "review"}
)

# Values a recorded therapy's kind can take.
THERAPY_KINDS: frozenset[str] = frozenset(
    {
        "ect",
        "tms",
        "vns",
        "dbs",
        "mst",
        "ketamine",
        "esketamine",
        "psychotherapy",
        "psychedelic_trial",
        "other",
    }
)

_FIELDS: tuple[str, ...] = (
    "key",
    "title",
    "category",
    "summary",
    "considered_when",
    "cautions",
    "sources",
    "suicide_risk_related",
    "already_tried_when",
)
_TRIED_FIELDS: frozenset[str] = frozenset({"therapy_kinds", "drugs", "drug_classes"})
_CAUTION_FIELDS: frozenset[str] = frozenset({"text", "sources", "suicide_risk", "out_of_date"})
_OUT_OF_DATE_FIELDS: frozenset[str] = frozenset({"fact", "reference"})


@dataclass(frozen=True)
class OutOfDate:
    """What has changed since a source's statement, in our words, and where that is said."""

    fact: str
    reference: str


@dataclass(frozen=True)
class Caution:
    """What a source says about an option: reported, never an order."""

    text: str
    sources: tuple[str, ...]
    suicide_risk: bool = False  # the statement linking the option to suicide risk
    out_of_date: OutOfDate | None = None

    def render(self) -> str:
        """One line: the statement, its sources, and what is out of date beside it."""
        line = f"{self.text} ({'; '.join(self.sources)})"
        if self.suicide_risk:
            line = f"Suicide risk: {line}"
        if self.out_of_date is not None:
            fact = self.out_of_date.fact
            line += f" Out of date: {fact[0].upper()}{fact[1:]} ({self.out_of_date.reference})."
        return line


@dataclass(frozen=True)
class Option:
    key: str
    title: str
    category: str
    summary: str
    considered_when: str
    cautions: tuple[str, ...]  # each caution rendered as one line (Caution.render)
    sources: tuple[str, ...]
    suicide_risk_related: bool
    tried_therapy_kinds: frozenset[str]
    tried_drugs: frozenset[str]
    tried_drug_classes: frozenset[str]
    caution_notes: tuple[Caution, ...] = ()

    def is_already_tried(
        self,
        *,
        therapy_kinds: Iterable[str] = (),
        drug_names: Iterable[str] = (),
        drug_classes: Iterable[str] = (),
    ) -> bool:
        """True when any recorded therapy kind, drug or drug class matches this option's rule."""
        return bool(
            self.tried_therapy_kinds & _normalised(therapy_kinds)
            or self.tried_drugs & _normalised(drug_names)
            or {c.casefold() for c in self.tried_drug_classes} & _normalised(drug_classes)
        )


@dataclass(frozen=True)
class PatientOption:
    option: Option
    already_tried: bool


def _normalised(values: Iterable[str | None]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values if v and v.strip())


def _error(where: str, message: str) -> ValueError:
    return ValueError(f"{where}: {message}")


def _text(entry: Mapping[str, Any], field: str, where: str) -> str:
    value = entry[field]
    if not isinstance(value, str) or not value.strip():
        raise _error(where, f"'{field}' must be a non-empty string")
    return value.strip()


def _strings(value: Any, field: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _error(where, f"'{field}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _parse_caution(value: Any, sources: tuple[str, ...], where: str) -> Caution:
    if not isinstance(value, dict):
        raise _error(where, "each caution must be a mapping with 'text' and 'sources'")
    unknown = sorted(set(value) - _CAUTION_FIELDS)
    if unknown:
        raise _error(where, f"unknown caution field(s): {', '.join(map(str, unknown))}")
    if "text" not in value:
        raise _error(where, "a caution is missing 'text'")
    text = _text(value, "text", where)
    cited = _strings(value.get("sources"), "caution sources", where)
    if not cited:
        raise _error(where, f"the caution {text[:40]!r} must cite its source")
    stray = [source for source in cited if source not in sources]
    if stray:
        raise _error(where, f"a caution cites {stray}, which the option's 'sources' do not list")
    suicide_risk = value.get("suicide_risk", False)
    if not isinstance(suicide_risk, bool):
        raise _error(where, "a caution's 'suicide_risk' must be true or false")
    out_of_date = value.get("out_of_date")
    if out_of_date is not None:
        if not isinstance(out_of_date, dict) or set(out_of_date) != _OUT_OF_DATE_FIELDS:
            raise _error(where, "'out_of_date' must give exactly 'fact' and 'reference'")
        out_of_date = OutOfDate(
            fact=_text(out_of_date, "fact", where),
            reference=_text(out_of_date, "reference", where),
        )
    return Caution(text=text, sources=cited, suicide_risk=suicide_risk, out_of_date=out_of_date)


def _parse_option(entry: Any, index: int) -> Option:
    where = f"option #{index + 1}"
    if not isinstance(entry, dict):
        raise _error(where, "each option must be a mapping")
    if isinstance(entry.get("key"), str):
        where = f"option #{index + 1} ({entry['key']!r})"
    missing = [f for f in _FIELDS if f not in entry]
    unknown = sorted(set(entry) - set(_FIELDS))
    if missing:
        raise _error(where, f"missing field(s): {', '.join(missing)}")
    if unknown:
        raise _error(where, f"unknown field(s): {', '.join(unknown)}")

    category = _text(entry, "category", where)
    if category not in CATEGORIES:
        raise _error(where, f"unknown category {category!r}; expected one of {sorted(CATEGORIES)}")

    sources = _strings(entry["sources"], "sources", where)
    if not sources:
        raise _error(where, "'sources' must cite at least one source document")
    for source in sources:
        if source not in SOURCE_TITLES:
            raise _error(
                where,
                f"unknown source {source!r}; sources must be one of {sorted(SOURCE_TITLES)}",
            )
    if len(set(sources)) != len(sources):
        raise _error(where, "'sources' lists the same document more than once")

    suicide_risk_related = entry["suicide_risk_related"]
    if not isinstance(suicide_risk_related, bool):
        raise _error(where, "'suicide_risk_related' must be true or false")

    raw_cautions = entry["cautions"] or []
    if not isinstance(raw_cautions, list):
        raise _error(where, "'cautions' must be a list")
    cautions = tuple(_parse_caution(c, sources, where) for c in raw_cautions)
    if suicide_risk_related != any(c.suicide_risk for c in cautions):
        raise _error(
            where,
            "an option linked to suicide risk needs a caution marked 'suicide_risk' saying "
            "why, with its source (and only such an option may have one)",
        )

    tried = entry["already_tried_when"]
    if tried is None:
        tried = {}
    if not isinstance(tried, dict):
        raise _error(where, "'already_tried_when' must be a mapping (use {} for none)")
    unknown_tried = sorted(set(tried) - _TRIED_FIELDS)
    if unknown_tried:
        raise _error(
            where,
            f"unknown 'already_tried_when' field(s): {', '.join(map(str, unknown_tried))}",
        )
    therapy_kinds = _strings(tried.get("therapy_kinds"), "therapy_kinds", where)
    bad_kinds = sorted(set(therapy_kinds) - THERAPY_KINDS)
    if bad_kinds:
        raise _error(where, f"unknown therapy kind(s): {', '.join(bad_kinds)}")
    drugs = _strings(tried.get("drugs"), "drugs", where)
    drug_classes = _strings(tried.get("drug_classes"), "drug_classes", where)

    return Option(
        key=_text(entry, "key", where),
        title=_text(entry, "title", where),
        category=category,
        summary=_text(entry, "summary", where),
        considered_when=_text(entry, "considered_when", where),
        cautions=tuple(c.render() for c in cautions),
        sources=sources,
        suicide_risk_related=suicide_risk_related,
        tried_therapy_kinds=frozenset(therapy_kinds),
        tried_drugs=frozenset(d.casefold() for d in drugs),
        tried_drug_classes=frozenset(drug_classes),
        caution_notes=cautions,
    )


def _load(path: Path) -> tuple[Option, ...]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a YAML list of options")

    options = tuple(_parse_option(entry, i) for i, entry in enumerate(raw))
    keys = tuple(option.key for option in options)
    if keys != OPTION_KEYS:
        missing = [k for k in OPTION_KEYS if k not in keys]
        extra = [k for k in keys if k not in OPTION_KEYS]
        duplicated = sorted({k for k in keys if keys.count(k) > 1})
        details = []
        if missing:
            details.append(f"missing {missing}")
        if extra:
            details.append(f"unexpected {extra}")
        if duplicated:
            details.append(f"duplicated {duplicated}")
        if not details:
            details.append(f"wrong order {list(keys)}")
        raise ValueError(
            f"{path}: option keys must be exactly {list(OPTION_KEYS)} in that order; "
            + "; ".join(details)
        )
    return options


@functools.cache
def _load_default() -> tuple[Option, ...]:
    return _load(OPTIONS_FILE)


def load_options(path: Path | str = OPTIONS_FILE) -> tuple[Option, ...]:
    """Load and validate the options file; raises ValueError when it is malformed.

    The default file is read once and cached; other paths are read on every call.
    """
    if Path(path) == OPTIONS_FILE:
        return _load_default()
    return _load(Path(path))


def options_for_patient(
    *,
    therapy_kinds: Iterable[str],
    drug_names: Iterable[str],
    drug_classes: Iterable[str],
) -> list[PatientOption]:
    """All options in file order, each flagged when the patient's record shows it was tried.

    ``therapy_kinds`` are the kinds of recorded non-drug therapies, ``drug_names`` the generic
    names and ``drug_classes`` the classes of every drug the patient has taken.
    """
    kinds = _normalised(therapy_kinds)
    drugs = _normalised(drug_names)
    classes = _normalised(drug_classes)
    return [
        PatientOption(
            option=option,
            already_tried=option.is_already_tried(
                therapy_kinds=kinds, drug_names=drugs, drug_classes=classes
            ),
        )
        for option in load_options()
    ]


def in_discussion_order(items: Iterable[PatientOption]) -> list[PatientOption]:
    """The options not yet tried first, then those already tried; file order within each.

    The patient page, the discussion sheet and the API list them in this order, so what is
    still open to discuss comes before what the record shows was done.
    """
    return sorted(items, key=lambda item: item.already_tried)
