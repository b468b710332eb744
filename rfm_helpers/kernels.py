"""Warm, reusable Jupyter kernels that execute the pipeline's notebooks with papermill.

Starting a kernel and importing pandas, matplotlib, seaborn and scikit-learn in it costs about
5 s, more than most notebooks take to run. A :class:`KernelWorker` starts one kernel, imports
the helper modules in it at once (while the runner goes on with its own work), and then
executes notebook after notebook in it. Before each notebook the kernel's namespace is reset,
so a notebook never sees another's variables and runs the same as on its own; imported
modules stay loaded, which is the point.

Each worker owns one thread: the kernel's client and papermill's client run on that thread's
event loop, so several workers can execute independent steps side by side.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

# jsonschema imports rfc3987_syntax (a Lark grammar, ~1 s) to check "iri" string formats,
# which the notebook schema never uses; papermill imports jsonschema via nbformat.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from jupyter_core.utils import run_sync  # noqa: E402
from traitlets.config import Config  # noqa: E402

KERNEL_NAME = "python3"
# CurveZMQ between runner and kernel: the kernelspec supports it, and without it ipykernel
# prints an "unencrypted TCP" warning for every notebook.
KERNEL_CONFIG = Config({"KernelManager": {"transport_encryption": "auto"}})
RESET_KERNEL = "get_ipython().run_line_magic('reset', '-f'); get_ipython().execution_count = 1"
"""Run before each notebook: an empty namespace, and cells numbered from 1 as in a new kernel."""
START_TIMEOUT_S = 120


def kernel_environment() -> dict[str, str]:
    """The runner's environment, with one OpenMP thread per kernel unless the user set it.

    scikit-learn's KMeans busy-waits on its OpenMP threads: on 2 cores, with a second kernel or
    any other load, the elbow chart took 17–49 s instead of 2.5–4.4 s with one thread
    (measured on this project's data). Parallelism comes from running steps side by side.
    """
    return {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}


class KernelError(RuntimeError):
    """The kernel could not start or run the setup code; the message says which."""


def warm_up() -> None:
    """Import papermill and the HTML exporter (~1.5 s) while the kernels boot, not after."""
    import papermill  # noqa: F401

    from rfm_helpers import htmlexport  # noqa: F401


class KernelWorker:
    """One kernel on its own thread; :meth:`submit` queues a notebook on it."""

    def __init__(self, cwd: Path, prelude: str = "") -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel")
        self._km: AsyncKernelManager | None = None
        self.ready: Future[None] = self._thread.submit(self._start, cwd, prelude)

    def _start(self, cwd: Path, prelude: str) -> None:
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, config=KERNEL_CONFIG)
        run_sync(km.start_kernel)(cwd=str(cwd), env=kernel_environment())
        self._km = km
        # A blocking client for the runner's own code: papermill's client runs each notebook
        # on an event loop of its own, which an asyncio client created here would not follow.
        self._kc = km.blocking_client()
        self._kc.start_channels()
        self._kc.wait_for_ready(timeout=START_TIMEOUT_S)
        if prelude:
            self._run_quietly(prelude)

    def _run_quietly(self, code: str) -> None:
        """Execute ``code`` without output or history; raise if it fails."""
        msg_id = self._kc.execute(code, silent=True, store_history=False)
        while True:
            reply = self._kc.get_shell_msg(timeout=START_TIMEOUT_S)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"].get("status") != "ok":
            content = reply["content"]
            raise KernelError(f"kernel setup code failed: {content.get('ename')}: {content.get('evalue')}")

    def _execute(self, notebook: Path, executed_path: Path, parameters: dict) -> None:
        import papermill  # already imported by the runner while the kernel started (see warm_up)

        self._run_quietly(RESET_KERNEL)
        papermill.execute_notebook(
            str(notebook),
            str(executed_path),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            km=self._km,
        )

    def submit(self, notebook: Path, executed_path: Path, parameters: dict) -> Future[None]:
        """Execute ``notebook`` (after the kernel is ready) into ``executed_path``."""
        return self._thread.submit(self._execute, notebook, executed_path, parameters)

    def _stop(self) -> None:
        if self._km is not None:
            self._kc.stop_channels()
            run_sync(self._km.shutdown_kernel)(now=True)
            self._km = None

    def shutdown(self) -> None:
        """Stop the kernel (after queued work) and the thread."""
        self._thread.submit(self._stop).result()
        self._thread.shutdown()
