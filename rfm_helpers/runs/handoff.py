"""A notebook tells the runner that its products are written, before its page is done.

Every step on the report's longest chain writes its products (marts, customer tables, exports)
in its first cells and then draws its charts and tables. A notebook that calls
:func:`products_written` right after its last write lets the runner start the steps that read
those products at once, beside the rest of its page, instead of after its last cell. The runner
hashes the products then, and again when the notebook ends: a step that wrote one of them after
the call fails, naming the step.

Run by hand (Jupyter, papermill alone), the call does nothing. This module imports nothing from
the project, so that the notebooks that import it do not rerun when the runner changes.
"""

from __future__ import annotations

from pathlib import Path

MARK = "products-written"
"""The line :func:`products_written` appends to the kernel's log of parameter reads."""

_log: Path | None = None


def report_to(log: str | Path) -> None:
    """Set by the runner in each kernel it starts: where :func:`products_written` writes."""
    global _log
    _log = Path(log)


def products_written() -> None:
    """Every product this notebook declares (``writes`` in notebooks/pipeline.yaml) is written:
    the steps that read them may start now."""
    if _log is not None:
        with _log.open("a", encoding="utf-8") as fh:
            fh.write(f"{MARK}\n")


def marked(log: Path, offset: int) -> bool:
    """Whether :func:`products_written` was called in ``log`` after byte ``offset``."""
    with log.open("rb") as fh:
        fh.seek(offset)
        return f"\n{MARK}\n".encode() in b"\n" + fh.read()
