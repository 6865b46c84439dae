from django.shortcuts import render

from accounts import access
from treatments.models import Outcome
from treatments.trd import MIN_ADEQUATE_DAYS

from . import dashboard_charts as charts
from .dashboard import CACHE_SECONDS, practice_dashboard

FULL_WIDTH = 960  # the viewBox of full-width charts; half-width ones use 480

PATIENT_GROUPS = (
    ("meeting_trd", "Meets TRD", "grp-trd"),
    ("one_adequate_failure", "One adequate failed trial", "grp-one"),
    ("pseudo_resistance", "Possible pseudo-resistance", "grp-pseudo"),
    ("other", "No failed antidepressant trial", "grp-other"),
)


@access.practice_view
def dashboard(request):
    membership = access.dashboard_membership(request.user)
    figures = practice_dashboard(membership.practice_id)
    patients = figures["patients"]
    groups = [(label, patients[key], css) for key, label, css in PATIENT_GROUPS]
    by_class = figures["trials_by_class"]
    adequate_days = figures["adequate_days_by_class"]
    per_month = figures["trials_per_month"]
    outcome_labels = dict(Outcome.choices)
    return render(
        request,
        "reports/dashboard.html",
        {
            "figures": figures,
            "practice": membership.practice,
            "cache_minutes": CACHE_SECONDS // 60,
            "min_adequate_days": MIN_ADEQUATE_DAYS,
            "groups": groups,
            "trial_total": sum(row["total"] for row in by_class),
            "outcomes": Outcome.choices,
            "patients_chart": charts.horizontal_bars(groups, width=480, label_width=200),
            "class_chart": charts.stacked_bars(
                [
                    (
                        row["drug_class"],
                        [(key, outcome_labels[key], n) for key, n in row["outcomes"]],
                    )
                    for row in by_class
                ],
                width=FULL_WIDTH,
            ),
            "days_chart": charts.horizontal_bars(
                [(row["drug_class"], row["median_days"]) for row in adequate_days],
                css="bar-days",
                unit=" d",
                reference=(MIN_ADEQUATE_DAYS, f"{MIN_ADEQUATE_DAYS} days"),
                width=FULL_WIDTH,
            ),
            "month_chart": charts.columns(
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
            ),
        },
    )
