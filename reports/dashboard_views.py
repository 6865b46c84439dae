from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse

from accounts import access
from patients import groups
from treatments import trd
from treatments.models import Outcome
from treatments.trd import MIN_ADEQUATE_DAYS

from . import dashboard_charts as charts
from .dashboard import REFRESH_MINUTES, practice_dashboard

FULL_WIDTH = 960  # the viewBox of full-width charts; half-width ones use 480
CLASS_LABEL_WIDTH = 240  # room for the longest class name ("Anticonvulsant / mood stabiliser")

PATIENT_GROUPS = (
    ("meeting_trd", trd.STATUS_LABELS[trd.MEETS], "grp-trd"),
    ("one_adequate_failure", trd.STATUS_LABELS[trd.ONE_FAILED], "grp-one"),
    ("pseudo_resistance", "Possible pseudo-resistance", "grp-pseudo"),
    ("other", "No failed antidepressant trial", "grp-other"),
)
# Each group's patients: the patient list's ?trd= filter (patients.groups.patient_filter).
GROUP_FILTERS = {
    "meeting_trd": trd.MEETS,
    "one_adequate_failure": trd.ONE_FAILED,
    "pseudo_resistance": groups.PSEUDO,
    "other": groups.OTHER,
}


def patients_link(**params) -> str:
    """The patient list showing the patients behind a figure."""
    return f"{reverse('patients:patient-list')}?{urlencode(params)}"


@access.practice_view
def dashboard(request):
    membership = access.dashboard_membership(request.user)
    figures = practice_dashboard(membership.practice_id)
    if figures is None:
        return render(
            request,
            "reports/dashboard_pending.html",
            {"practice": membership.practice, "refresh_minutes": REFRESH_MINUTES},
        )
    patients = figures["patients"]
    groups = [(label, patients[key], css) for key, label, css in PATIENT_GROUPS]
    by_class = figures["trials_by_class"]
    group_links = {label: patients_link(trd=GROUP_FILTERS[key]) for key, label, _ in PATIENT_GROUPS}
    class_links = {
        row["drug_class"]: patients_link(drug_class=row["drug_class"]) for row in by_class
    }
    class_links.update(
        {
            (row["drug_class"], key): patients_link(drug_class=row["drug_class"], outcome=key)
            for row in by_class
            for key, n in row["outcomes"]
            if n
        }
    )
    adequate_days = figures["adequate_days_by_class"]
    per_month = figures["trials_per_month"]
    outcome_labels = dict(Outcome.choices)
    return render(
        request,
        "reports/dashboard.html",
        {
            "figures": figures,
            "practice": membership.practice,
            "refresh_minutes": REFRESH_MINUTES,
            "min_adequate_days": MIN_ADEQUATE_DAYS,
            "groups": groups,
            "group_rows": [(label, count, group_links[label]) for label, count, _ in groups],
            "class_rows": [
                {
                    "drug_class": row["drug_class"],
                    "total": row["total"],
                    "link": class_links[row["drug_class"]],
                    "outcomes": [
                        (n, class_links.get((row["drug_class"], key))) for key, n in row["outcomes"]
                    ],
                }
                for row in by_class
            ],
            "trial_total": sum(row["total"] for row in by_class),
            "outcomes": Outcome.choices,
            "group_links": {key: patients_link(trd=value) for key, value in GROUP_FILTERS.items()},
            "days_rows": [
                {**row, "link": patients_link(drug_class=row["drug_class"])}
                for row in adequate_days
            ],
            "patients_chart": charts.drawn_bars(
                charts.horizontal_bars(groups, width=480, label_width=200)
            ),
            "class_chart": charts.drawn_bars(
                charts.stacked_bars(
                    [
                        (
                            row["drug_class"],
                            [(key, outcome_labels[key], n) for key, n in row["outcomes"]],
                        )
                        for row in by_class
                    ],
                    width=FULL_WIDTH,
                    label_width=CLASS_LABEL_WIDTH,
                )
            ),
            "days_chart": charts.drawn_bars(
                charts.horizontal_bars(
                    [(row["drug_class"], row["median_days"]) for row in adequate_days],
                    css="bar-days",
                    unit=" d",
                    reference=(MIN_ADEQUATE_DAYS, f"{MIN_ADEQUATE_DAYS} days"),
                    width=FULL_WIDTH,
                )
            ),
            "month_chart": charts.drawn_columns(
                charts.columns(
                    [
                        (
                            f"{row['month']:%b}",
                            row["trials"],
                            f"{row['month']:%B %Y}: {row['trials']} trials started",
                            f"{row['month']:%Y}" if index == 0 or row["month"].month == 1 else "",
                        )
                        for index, row in enumerate(per_month)
                    ],
                    width=480,
                )
            ),
        },
    )
