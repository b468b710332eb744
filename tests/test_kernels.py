"""The runner's kernels (``rfm_helpers.runs.kernels``).

Notebooks that share a kernel never see each other's variables, and papermill talks to a kernel
through one client, connected once.

A stopped kernel's process-group id is never signalled once the kernel has exited. Under load
PIDs wrap within minutes, so the group id a kernel had can belong to another process by the
time the runner stops it: a test's runner killed with SIGKILL instead of ending with 130 after
Ctrl-C was the symptom. Here a new session leader stands in for the process that got the old
number.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from rfm_helpers.runs import kernels
from rfm_helpers.runs.kernels import KernelWorker


def _wait_for_exit(process: subprocess.Popen, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while process.poll() is None:  # poll() reaps it, which frees its PID for reuse
        assert time.monotonic() < deadline, "the kernel did not exit"
        time.sleep(0.05)


def test_the_group_id_of_an_exited_kernel_is_not_signalled(tmp_path: Path) -> None:
    worker = KernelWorker(tmp_path)
    worker.ready.result(timeout=120)
    provisioner = worker._km.provisioner
    os.killpg(provisioner.pgid, signal.SIGKILL)  # the kernel dies, as on Ctrl-C or a crash
    _wait_for_exit(provisioner.process)
    reused = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        provisioner.pgid = reused.pid  # its old number now leads another process group
        worker.interrupt()
        worker.shutdown()
        time.sleep(0.2)
        assert reused.poll() is None, "a stale process-group id was signalled"
    finally:
        reused.kill()
        reused.wait()


def test_a_live_kernel_is_still_killed_with_its_group(tmp_path: Path) -> None:
    worker = KernelWorker(tmp_path)
    worker.ready.result(timeout=120)
    process = worker._km.provisioner.process
    worker.interrupt()
    _wait_for_exit(process, timeout_s=5)
    assert process.returncode == -signal.SIGKILL
    worker.shutdown()


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def printed(executed: Path) -> list[str]:
    """The text each code cell of an executed notebook printed, and its execution counts."""
    cells = nbformat.read(executed, as_version=4).cells
    texts = ["".join(out.get("text", "") for out in cell.outputs).strip() for cell in cells]
    return [f"{cell.execution_count}: {text}".strip() for cell, text in zip(cells, texts, strict=True)]


@pytest.fixture
def worker(tmp_path: Path):
    started = KernelWorker(tmp_path, prelude="import json")
    yield started
    started.shutdown()


def test_notebooks_on_one_kernel_never_see_each_others_or_the_setups_names(
    worker: KernelWorker, tmp_path: Path
) -> None:
    first = write_notebook(tmp_path / "first.ipynb", "print(sorted({'json', 'x'} & set(dir())))", "x = 1")
    second = write_notebook(tmp_path / "second.ipynb", "print(sorted({'json', 'x'} & set(dir())))", "x = 2")
    for notebook in (first, second, first):
        worker.submit(notebook, tmp_path / f"{notebook.stem}-out.ipynb", {}).result(timeout=120)
        # numbered from 1, as in a new kernel; neither the setup's import nor the last notebook's x
        assert printed(tmp_path / f"{notebook.stem}-out.ipynb") == ["1: []", "2:"]
    # what the setup imported is frozen: the garbage collection of each reset skips it
    frozen = write_notebook(tmp_path / "frozen.ipynb", "import gc, json\nprint(gc.get_freeze_count() > 0)")
    worker.submit(frozen, tmp_path / "frozen-out.ipynb", {}).result(timeout=120)
    assert printed(tmp_path / "frozen-out.ipynb") == ["1: True"]


def test_one_client_per_kernel_waits_for_it_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """jupyter_client's wait_for_ready ends by waiting for 0.2 s of quiet: once per kernel (the
    setup code, the resets and every notebook go through one client), not once per notebook."""
    waits = []
    base_wait = kernels.AsyncKernelClient.wait_for_ready

    async def counted_wait(self, timeout=None):
        waits.append(self)
        await base_wait(self, timeout)

    monkeypatch.setattr(kernels.AsyncKernelClient, "wait_for_ready", counted_wait)
    worker = KernelWorker(tmp_path, prelude="import json")
    try:
        notebook = write_notebook(tmp_path / "n.ipynb", "print(1 + 1)")
        for run in range(3):
            worker.submit(notebook, tmp_path / f"out-{run}.ipynb", {}).result(timeout=120)
            assert printed(tmp_path / f"out-{run}.ipynb") == ["1: 2"]
    finally:
        worker.shutdown()
    assert len(waits) == 1
    assert isinstance(waits[0], kernels.NotebookClient)
