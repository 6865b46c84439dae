"""Which diagnoses the TRD definition applies to. Pure.

The "two adequate antidepressant trials" definition is a definition for major depressive disorder
(single or recurrent episode). Bipolar depression is treated on other lines (mood stabilisers
and antipsychotics first, antidepressant monotherapy discouraged), so counting antidepressant
failures there would mislead; "other" diagnoses are outside the definition too. Source: the
seed documents' definition of TRD as failure of antidepressants in major depression
("Understanding TRD: What You Need to Know"; "What is Treatment Resistant Depression (TRD)?").
"""

UNKNOWN = "unknown"
MDD_SINGLE = "mdd_single"
MDD_RECURRENT = "mdd_recurrent"
BIPOLAR_DEPRESSION = "bipolar_depression"
OTHER = "other"

CHOICES = [
    (UNKNOWN, "Not recorded"),
    (MDD_SINGLE, "Major depressive disorder, single episode"),
    (MDD_RECURRENT, "Major depressive disorder, recurrent"),
    (BIPOLAR_DEPRESSION, "Bipolar depression"),
    (OTHER, "Another diagnosis"),
]

NOT_APPLICABLE = {
    BIPOLAR_DEPRESSION: (
        "The TRD definition (two adequate antidepressant trials) is for major depressive "
        "disorder; it does not apply to bipolar depression, whose treatment follows other lines."
    ),
    OTHER: (
        "The TRD definition (two adequate antidepressant trials) is for major depressive "
        "disorder; it does not apply to the recorded diagnosis."
    ),
}


def not_applicable_reason(diagnosis: str) -> str | None:
    """Why the TRD definition does not apply to this diagnosis, or None when it does (MDD, or
    a diagnosis not yet recorded: then the definition is applied and the page says so)."""
    return NOT_APPLICABLE.get(diagnosis)
