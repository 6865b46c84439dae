"""The practice dashboard: who may open it, what it counts, how many queries, how it caches."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from core.dates import today
from patients.models import Patient
from reports import dashboard
from tests.factories import DoseChangeFactory, PatientFactory, TrialFactory, drug, member
from treatments.services import refresh_trd_summaries

URL = reverse("dashboard:dashboard")


@pytest.fixture(autouse=True)
def _cold_cache():
    """Practice ids repeat across tests (rolled back), so no test may see another's figures."""
    cache.clear()
    yield
    cache.clear()


def stale_patient(practice, identifier):
    """A patient made by the factory; crafted_practice stores the summaries as the services
    would once the history is complete."""
    return PatientFactory(practice=practice, identifier=identifier, trd_evaluated_on=None)


def failed(patient, name="sertraline", **fields):
    return TrialFactory(patient=patient, drug=drug(name), **fields)


@pytest.fixture
def crafted_practice(practice, other_practice):
    """Two patients meeting TRD, three possibly pseudo-resistant, one with one adequate
    failure, four others; plus records that must not count anywhere."""
    meets = stale_patient(practice, "MEETS-1")
    failed(meets, "sertraline")
    failed(meets, "escitalopram", dose_mg=Decimal("10"), outcome="partial_response")
    meets_via_dose_change = stale_patient(practice, "MEETS-2")
    low_start = failed(meets_via_dose_change, "sertraline", dose_mg=Decimal("25"))
    DoseChangeFactory(trial=low_start, date=low_start.start_date + timedelta(days=7))
    failed(meets_via_dose_change, "venlafaxine", dose_mg=Decimal("150"))

    low_dose = stale_patient(practice, "PSEUDO-LOW-DOSE")
    failed(low_dose, dose_mg=Decimal("25"))
    too_short = stale_patient(practice, "PSEUDO-SHORT")
    start = today() - timedelta(days=90)
    failed(too_short, start_date=start, end_date=start + timedelta(days=20))
    poor_adherence = stale_patient(practice, "PSEUDO-ADHERENCE")
    failed(poor_adherence, adherence="poor", outcome="partial_response")

    one_adequate = stale_patient(practice, "ONE-ADEQUATE")
    failed(one_adequate)
    failed(
        one_adequate,
        dose_mg=Decimal("25"),
        start_date=today() - timedelta(days=50),
        end_date=None,
        outcome="ongoing",
    )

    responded = stale_patient(practice, "OTHER-RESPONSE")
    failed(responded, outcome="response")
    stale_patient(practice, "OTHER-NO-TRIALS")
    augmentation_only = stale_patient(practice, "OTHER-LITHIUM")
    failed(augmentation_only, "lithium", dose_mg=Decimal("300"))
    deleted_trial_only = stale_patient(practice, "OTHER-DELETED-TRIAL")
    failed(deleted_trial_only, dose_mg=Decimal("25"), deleted_at=timezone.now())

    deleted = PatientFactory(practice=practice, identifier="DELETED", deleted_at=timezone.now())
    failed(deleted, dose_mg=Decimal("25"))
    for n in range(3):
        outsider = stale_patient(other_practice, f"OUTSIDE-{n}")
        failed(outsider, "sertraline")
        failed(outsider, "escitalopram", dose_mg=Decimal("10"))
    refresh_trd_summaries(Patient.objects.all())
    return practice


def figures_for(practice):
    return dashboard.compute_dashboard(practice.pk)


@pytest.mark.django_db
def test_it_counts_patients_by_trd_status(crafted_practice):
    assert figures_for(crafted_practice)["patients"] == {
        "total": 10,
        "meeting_trd": 2,
        "one_adequate_failure": 1,
        "pseudo_resistance": 3,
        "other": 4,
    }


@pytest.mark.django_db
def test_computing_the_figures_writes_nothing(crafted_practice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        figures_for(crafted_practice)
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


@pytest.mark.django_db
def test_it_counts_trials_by_class_and_outcome_without_deleted_records(crafted_practice):
    by_class = {row["drug_class"]: row for row in figures_for(crafted_practice)["trials_by_class"]}
    assert set(by_class) == {"SSRI", "SNRI", "Mood stabiliser"}
    ssri = dict(by_class["SSRI"]["outcomes"])
    assert by_class["SSRI"]["total"] == 9
    assert ssri["no_response"] == 5
    assert ssri["partial_response"] == 2
    assert ssri["response"] == 1
    assert ssri["ongoing"] == 1
    assert by_class["SNRI"]["total"] == 1
    assert by_class["Mood stabiliser"]["total"] == 1


@pytest.mark.django_db
def test_it_gives_the_median_days_at_adequate_dose_per_antidepressant_class(crafted_practice):
    figures = figures_for(crafted_practice)
    rows = {row["drug_class"]: row for row in figures["adequate_days_by_class"]}
    # Augmentation agents have no "adequate trial" in the rule, so no median either.
    assert set(rows) == {"SSRI", "SNRI"}
    assert rows["SNRI"] == {"drug_class": "SNRI", "trials": 1, "adequate": 1, "median_days": 60}
    # SSRI days: 60 x5 (MEETS-1 twice, poor adherence, ONE-ADEQUATE, the response),
    # 53 (dose raised after a week), 20 (too short), 0 x2 (25 mg, one of them ongoing).
    assert rows["SSRI"]["trials"] == 9
    assert rows["SSRI"]["median_days"] == 60
    assert rows["SSRI"]["adequate"] == 5  # poor adherence is never adequate


@pytest.mark.django_db
def test_it_counts_trials_started_per_month_for_the_last_twelve_months(practice):
    patient = PatientFactory(practice=practice)
    this_month = today().replace(day=1)
    TrialFactory(patient=patient, start_date=this_month, end_date=None)
    TrialFactory(patient=patient, start_date=this_month, end_date=None)
    TrialFactory(patient=patient, start_date=this_month - timedelta(days=1), end_date=None)
    TrialFactory(patient=patient, start_date=this_month - timedelta(days=400), end_date=None)

    months = figures_for(practice)["trials_per_month"]

    assert len(months) == 12
    assert months[-1] == {"month": this_month, "trials": 2}
    assert months[-2]["trials"] == 1
    assert sum(m["trials"] for m in months) == 3


def test_month_starts_cross_the_year_boundary():
    from datetime import date

    assert dashboard.month_starts(date(2025, 2, 17), count=4) == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]


@pytest.mark.django_db
def test_it_never_counts_another_practices_records(crafted_practice, outsider, login):
    client = login(outsider)
    figures = client.get(URL).context["figures"]
    assert figures["patients"]["total"] == 3
    assert figures["patients"]["meeting_trd"] == 3
    assert {row["drug_class"] for row in figures["trials_by_class"]} == {"SSRI"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_every_role_of_the_practice_may_open_it(role, crafted_practice, login):
    client = login(member(crafted_practice, role))
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Possible pseudo-resistance" in page
    assert response.context["figures"]["patients"]["meeting_trd"] == 2
    nav = page.split('<ul class="navbar-nav')[1].split("</ul>")[0]
    assert f'href="{URL}"' in nav


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_a_user_without_a_practice_is_refused_and_not_offered_the_link(login):
    from tests.factories import UserFactory

    client = login(UserFactory())
    assert client.get(URL).status_code == 403
    assert f'href="{URL}"' not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_the_page_says_when_its_figures_were_computed(practice, clinician, login):
    response = login(clinician).get(URL)
    computed_at = timezone.localtime(response.context["figures"]["computed_at"])
    assert f"Figures as of {computed_at:%H:%M}" in response.content.decode()


@pytest.mark.django_db
def test_the_page_needs_no_inline_styles_or_scripts(crafted_practice, clinician, login):
    page = login(clinician).get(URL).content.decode()
    assert "style=" not in page
    assert "<script>" not in page
    assert page.count("<svg") == 4
    assert page.count('role="img"') == 4


def practice_of(practice, patients: int, first: int = 0):
    for n in range(first, first + patients):
        patient = stale_patient(practice, f"P-{n:03d}")
        failed(patient)
        failed(patient, "escitalopram", dose_mg=Decimal("5"))


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_the_patients(
    practice, clinician, login, django_assert_max_num_queries
):
    client = login(clinician)
    client.get(reverse("home"))
    counts = []
    for patients, first in ((3, 0), (27, 3)):
        practice_of(practice, patients, first)
        cache.clear()
        with django_assert_max_num_queries(20) as queries:
            response = client.get(URL)
        counts.append(len(queries))
    assert response.context["figures"]["patients"]["total"] == 30
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_it_serves_cached_figures_until_the_cache_is_cleared(
    practice, clinician, login, django_assert_max_num_queries
):
    practice_of(practice, 3)
    client = login(clinician)
    first = client.get(URL).context["figures"]
    newcomer = stale_patient(practice, "NEW")
    failed(newcomer)

    # Only the session, user, membership and 2FA lookups, the session's activity stamp and
    # the navigation's unread-notification count.
    with django_assert_max_num_queries(9) as queries:
        cached = client.get(URL).context["figures"]
    clinical = [
        q["sql"]
        for q in queries.captured_queries
        if "treatments_" in q["sql"]
        or ("patients_" in q["sql"] and "notifications_" not in q["sql"])
    ]
    assert clinical == []
    assert cached == first
    assert cached["patients"]["total"] == 3

    cache.clear()
    assert client.get(URL).context["figures"]["patients"]["total"] == 4


@pytest.mark.django_db
def test_each_practice_has_its_own_cache_entry(crafted_practice, clinician, outsider, login):
    theirs = dashboard.cache_key(outsider.membership.practice_id)
    assert dashboard.cache_key(crafted_practice.pk) != theirs
    login(clinician).get(URL)
    assert cache.get(dashboard.cache_key(crafted_practice.pk))["patients"]["total"] == 10
    assert cache.get(theirs) is None
