"""Thase–Rush staging for the exports: the rule lives in treatments/staging.py."""

from treatments.staging import MAOI, TCA, thase_rush_stage

__all__ = ["MAOI", "TCA", "thase_rush_stage"]
