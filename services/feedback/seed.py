"""Demo reference data for feedback: none yet (surveys are issued from completed jobs)."""
from __future__ import annotations


def seed(session, only_if_empty: bool = False) -> str:
    return "nothing to load (surveys are issued when jobs complete)"
