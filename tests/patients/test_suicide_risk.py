"""The suicide-risk banner: raised by PHQ-9 item 9 above 0 in the latest PHQ-9, or by the
clinician's flag; on the patient page and in the list, with the options it links to."""

import pytest
from django.utils import timezone

from tests.factories import PatientFactory, ScaleScoreFactory, phq9

pytestmark = pytest.mark.django_db

BANNER = 'id="suicide-risk"'
URGENT = "suicidal ideation, sudden neurological symptoms, or severe agitation or psychosis"
SOURCE = "Understanding and Managing TRD in the U.S."


def page_of(client, patient) -> str:
    response = client.get(patient.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def list_row(html: str, identifier: str) -> str:
    return html.split("<tbody>")[1].split(f">{identifier}</a>")[1].split("</tr>")[0]


def test_a_phq9_item_9_above_0_shows_the_banner_with_the_urgent_care_situations(
    clinician, patient, login
):
    phq9(patient, item9=2)
    html = page_of(login(clinician), patient)

    assert BANNER in html
    assert "Suicide risk: discuss urgently" in html
    assert "scored <strong>2</strong>" in html
    assert URGENT in html and SOURCE in html
    assert "btn-close" not in html.split(BANNER)[1].split("</section>")[0]  # not dismissable


def test_only_the_latest_phq9_counts(clinician, patient, login):
    phq9(patient, item9=3, days_ago=30)
    phq9(patient, item9=0, days_ago=5)
    ScaleScoreFactory(patient=patient, scale="madrs", total=40)  # other scales never raise it

    assert BANNER not in page_of(login(clinician), patient)


def test_a_deleted_phq9_does_not_raise_the_banner(clinician, patient, login):
    phq9(patient, item9=0, days_ago=30)
    latest = phq9(patient, item9=2, days_ago=5)
    latest.deleted_at = timezone.now()
    latest.save()

    client = login(clinician)
    assert BANNER not in page_of(client, patient)
    assert "Suicide risk" not in list_row(client.get("/patients/").content.decode(), "MRN-1")


def test_the_clinicians_flag_shows_the_banner_without_scores(clinician, patient, login):
    patient.suicide_risk_flag = True
    patient.save()
    html = page_of(login(clinician), patient)

    assert BANNER in html and "Flagged by a clinician" in html
    assert "scored <strong>" not in html


def test_without_risk_there_is_no_banner_and_no_option_highlight(clinician, patient, login):
    phq9(patient, item9=0)
    html = page_of(login(clinician), patient)

    assert BANNER not in html
    assert "option-risk" not in html and "linked to suicide risk" not in html


def test_with_risk_the_options_the_sources_link_to_suicide_risk_are_highlighted(
    clinician, patient, login
):
    phq9(patient, item9=1)
    html = page_of(login(clinician), patient)
    ketamine = html.split('data-option="ketamine_esketamine"')[0].rsplit("<div", 1)[1]
    lithium = html.split('data-option="augmentation"')[0].rsplit("<div", 1)[1]
    ect = html.split('data-option="ect"')[0].rsplit("<div", 1)[1]

    assert "option-risk" in ketamine and "option-risk" in lithium and "option-risk" not in ect
    assert html.count("linked to suicide risk in the sources") == 2  # ketamine and lithium
    assert "not a recommendation" in html  # still for discussion only


def test_the_list_flags_each_patient_at_risk(clinician, practice, login):
    phq9(PatientFactory(practice=practice, identifier="A-PHQ"), item9=1)
    PatientFactory(practice=practice, identifier="B-FLAG", suicide_risk_flag=True)
    phq9(PatientFactory(practice=practice, identifier="C-OK"), item9=0)
    PatientFactory(practice=practice, identifier="D-NONE")

    html = login(clinician).get("/patients/").content.decode()

    assert BANNER in html and URGENT in html and SOURCE in html
    assert "2 patients on this page" in html
    assert "Suicide risk: discuss urgently" in list_row(html, "A-PHQ")
    assert "Suicide risk: discuss urgently" in list_row(html, "B-FLAG")
    assert "Suicide risk" not in list_row(html, "C-OK")
    assert "Suicide risk" not in list_row(html, "D-NONE")


def test_the_list_without_anyone_at_risk_has_no_banner(clinician, practice, login):
    phq9(PatientFactory(practice=practice, identifier="C-OK"), item9=0)
    assert BANNER not in login(clinician).get("/patients/").content.decode()


def test_the_list_stays_at_a_constant_number_of_queries(
    clinician, practice, login, django_assert_max_num_queries
):
    client = login(clinician)

    def add(count, prefix):
        for n in range(count):
            patient = PatientFactory(practice=practice, identifier=f"{prefix}-{n:02d}")
            phq9(patient, item9=n % 2, days_ago=20)
            phq9(patient, item9=(n + 1) % 2, days_ago=10)

    add(3, "S")
    client.get("/patients/")
    with django_assert_max_num_queries(14) as small:  # +2: the read event and its patient links
        html = client.get("/patients/").content.decode()
        small_count = len(small)
    assert html.count("suicide-risk-badge") == 2  # S-00 and S-02: item 9 = 1 in the latest

    add(27, "T")
    client.get("/patients/")
    with django_assert_max_num_queries(small_count):
        html = client.get("/patients/").content.decode()
    assert html.count("suicide-risk-badge") > 2
