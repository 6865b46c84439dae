"""One predicate for the suicide-risk banner, badge and worklist (treatments.scales)."""

from treatments import scales


def test_suicide_risk_is_a_clinicians_flag_or_item_9_of_the_latest_phq9_above_0():
    assert scales.at_suicide_risk(True, None)
    assert scales.at_suicide_risk(False, 1)
    assert scales.at_suicide_risk(True, 0)
    assert not scales.at_suicide_risk(False, 0)
    assert not scales.at_suicide_risk(False, None)
