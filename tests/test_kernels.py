"""A stopped kernel's process-group id is never signalled once the kernel has exited.

Under load PIDs wrap within minutes, so the group id a kernel had can belong to another process
by the time the runner stops it: a test's runner killed with SIGKILL instead of ending with 130
after Ctrl-C was the symptom. Here a new session leader stands in for the process that got the
old number.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

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
