"""Fixtures shared by several test modules."""

from __future__ import annotations

import pandas as pd
import pytest

# The bad-input catalogue's baseline run (module scope: one per catalogue module) and checker.
from bad_input_support import baseline, failing  # noqa: F401

SEGMENTS = [
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "At Risk",
    "Cannot Lose Them",
    "Hibernating Customers",
    "Lost Customers",
]
"""The first source document's 11 segments, in its order (typed here, independently of the
shipped reference table, so the tests check that table rather than echo it)."""
GROUPS = ["Loyal & High-Value", "High-Risk", "New & Potential", "Inactive & Lost"]
"""The first source document's four segment groups, in the order reports show them."""


@pytest.fixture
def playbook() -> pd.DataFrame:
    """A group playbook shaped like data/reference/group_playbook.csv."""
    return pd.DataFrame(
        {
            "group": GROUPS,
            "priority": [1, 2, 3, 4],
            "goal": ["Retain and grow", "Win back", "Nurture", "Reactivate cheaply or let go"],
            "recommendation": ["upsell", "re-engage", "onboard", "cheap offers"],
        }
    )


# The throwaway PostgreSQL server (session fixtures `postgres_server`, `postgres_url`).
pytest_plugins = ["postgres_server"]
