"""The pages' words for the rules come from the rules' constants, not from the templates."""

from treatments import definitions, measured, scales, staging, trd


def test_the_definition_follows_the_rules_constants(monkeypatch):
    assert "at least 2 different antidepressants" in definitions.trd_definition()
    assert "at least 6 weeks" in definitions.trd_definition()
    monkeypatch.setattr(trd, "MIN_ADEQUATE_WEEKS", 8)
    monkeypatch.setattr(trd, "MIN_FAILED_TRIALS", 3)
    assert "at least 3 different antidepressants" in definitions.trd_definition()
    assert "at least 8 weeks" in definitions.trd_definition()


def test_the_measured_outcome_text_follows_the_windows_bands_and_cutoffs(monkeypatch):
    text = definitions.measured_outcome()
    assert "up to 14 days before the start" in text
    assert "HAM-D-17 preferred, then MADRS, then PHQ-9" in text
    assert "≥ 50% lower is a response" in text
    assert "25–49% partial, under 25% no response" in text
    assert "PHQ-9 ≤ 4, HAM-D-17 ≤ 7, MADRS ≤ 10" in text
    monkeypatch.setattr(measured, "BASELINE_WINDOW_DAYS", 21)
    monkeypatch.setattr(measured, "PARTIAL_DROP_PERCENT", 30)
    monkeypatch.setitem(
        scales.SCALES,
        scales.MADRS,
        scales.SCALES[scales.MADRS].__class__(
            **{**scales.SCALES[scales.MADRS].__dict__, "remission_max": 9}
        ),
    )
    text = definitions.measured_outcome()
    assert "up to 21 days before the start" in text
    assert "30–49% partial, under 30% no response" in text
    assert "MADRS ≤ 9" in text


def test_the_bands_of_the_text_are_the_bands_the_rule_applies():
    response, partial = measured.RESPONSE_DROP_PERCENT, measured.PARTIAL_DROP_PERCENT
    assert measured.classify(scales.HAMD17, 20, 20 - 20 * response // 100) == measured.RESPONSE
    assert measured.classify(scales.HAMD17, 20, 20 - 20 * response // 100 + 1) == (
        measured.PARTIAL_RESPONSE
    )
    assert measured.classify(scales.HAMD17, 20, 20 - 20 * partial // 100) == (
        measured.PARTIAL_RESPONSE
    )
    assert measured.classify(scales.HAMD17, 20, 20 - 20 * partial // 100 + 1) == (
        measured.NO_RESPONSE
    )


def test_the_augmentation_window_follows_staging(monkeypatch):
    assert "14 days or more" in definitions.augmentation_counts()
    monkeypatch.setattr(staging, "AUGMENTATION_MIN_DAYS", 28)
    assert "28 days or more" in definitions.augmentation_counts()


def test_the_patient_page_shows_the_definition_of_the_constants(
    practice, clinician, login, monkeypatch
):
    from tests.factories import PatientFactory

    patient = PatientFactory(practice=practice)
    monkeypatch.setattr(trd, "MIN_ADEQUATE_WEEKS", 8)

    page = login(clinician).get(patient.get_absolute_url()).content.decode()

    assert (
        "Definition used: at least 2 different antidepressants, each taken for at least 8 weeks"
    ) in page
