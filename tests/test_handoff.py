"""A notebook's word that its products are written (``rfm_helpers.runs.handoff``), as the runner
reads it from the kernel's log."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfm_helpers.runs import handoff


@pytest.fixture
def reporting_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "reads.log"
    log.write_text("# parameters read: <kind> <key>\nvalue run_name\n", encoding="utf-8")
    monkeypatch.setattr(handoff, "_log", None)
    handoff.report_to(log)
    return log


def test_the_mark_counts_only_after_the_offset(reporting_to: Path) -> None:
    offset = reporting_to.stat().st_size  # where the next notebook's lines start
    assert not handoff.marked(reporting_to, 0) and not handoff.marked(reporting_to, offset)
    handoff.products_written()
    assert handoff.marked(reporting_to, offset) and handoff.marked(reporting_to, 0)
    later = reporting_to.stat().st_size
    assert not handoff.marked(reporting_to, later), "a later notebook has not said so yet"
    assert reporting_to.read_text(encoding="utf-8").endswith("value run_name\nproducts-written\n")


def test_a_parameter_named_like_the_mark_is_not_the_mark(reporting_to: Path) -> None:
    with reporting_to.open("a", encoding="utf-8") as fh:
        fh.write("value products-written.x\n")
    assert not handoff.marked(reporting_to, 0)


def test_without_a_runner_the_call_does_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handoff, "_log", None)
    handoff.products_written()  # a notebook run by hand
    assert list(tmp_path.iterdir()) == []
