"""Warm, reusable Jupyter kernels that execute the pipeline's notebooks with papermill.

Starting a kernel and importing pandas, matplotlib, seaborn and scikit-learn in it costs about
5 s, more than most notebooks take to run. A :class:`KernelWorker` starts one kernel, imports
the helper modules in it at once (while the runner goes on with its own work), and then
executes notebook after notebook in it. The kernel's namespace is reset after the setup code
and after each notebook, so a notebook never sees another's variables and runs the same as on
its own; imported modules stay loaded, which is the point.

Each worker owns one thread and one client of its kernel (:class:`NotebookClient`), through which
the worker's own requests and papermill's notebooks go, all on that thread's event loop; several
workers execute independent steps side by side.

On Ctrl-C the runner calls :meth:`KernelWorker.interrupt`: queued notebooks are dropped and the
kernel's process group is killed at once, so a notebook that is running fails within about a
second (papermill polls the kernel) instead of running to its end.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import textwrap
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

# jsonschema imports rfc3987_syntax (a Lark grammar, ~1 s) to check "iri" string formats,
# which the notebook schema never uses; papermill imports jsonschema via nbformat.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from jupyter_client.asynchronous import AsyncKernelClient  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from jupyter_core.utils import run_sync  # noqa: E402
from traitlets import DottedObjectName, Type  # noqa: E402
from traitlets.config import Config  # noqa: E402

KERNEL_NAME = "python3"
# CurveZMQ between runner and kernel: the kernelspec supports it, and without it ipykernel
# prints an "unencrypted TCP" warning for every notebook.
KERNEL_CONFIG = Config({"KernelManager": {"transport_encryption": "auto"}})
# No IPython history: its database (in the user's home) would collect every run's code, and as
# the cells are numbered from 1 again after each reset, the kernel printed "ERROR! Session/line
# number was not unique in database" into whichever cell was running when it saved.
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]
RESET_KERNEL = "get_ipython().run_line_magic('reset', '-f'); get_ipython().execution_count = 1"
"""Run between notebooks: an empty namespace, and cells numbered from 1 as in a new kernel."""
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


_STOPPED_THREADS: set[int] = set()
"""Threads of workers whose kernel was killed on purpose (see :meth:`KernelWorker.interrupt`)."""


def _not_from_a_stopped_worker(record: logging.LogRecord) -> bool:
    return record.thread not in _STOPPED_THREADS


# papermill logs "Kernel died while waiting for execute reply" when interrupt() kills a kernel:
# expected then, and the runner says "Interrupted" instead. Other papermill messages still show.
logging.getLogger("papermill").addFilter(_not_from_a_stopped_worker)


def warm_up() -> None:
    """Import papermill and the HTML exporter (~1.5 s) while the kernels boot, not after."""
    import papermill  # noqa: F401

    from rfm_helpers.report import htmlexport  # noqa: F401


def _forget_if_exited(provisioner: object) -> bool:
    """True if the kernel has exited; then also forget its process-group id.

    jupyter_client's shutdown kills the group id it stored at launch without asking whether the
    kernel still lives. Once a killed kernel is reaped (any ``is_alive`` reaps it) that number is
    free, and with PIDs wrapping every few minutes under load it can become the group of a new
    session leader, such as another run, which the stale SIGKILL would then kill. While the kernel
    is alive or a zombie its PID, and so its group id, cannot have been reused.
    """
    process = getattr(provisioner, "process", None)
    if process is None or process.poll() is None:
        return False
    provisioner.pgid = None  # type: ignore[attr-defined]
    return True


class NotebookClient(AsyncKernelClient):
    """The one client of a kernel: the worker's setup code and resets, and papermill's every
    notebook (:class:`NotebookKernelManager`).

    Connected once: ``start_channels`` again does nothing and ``wait_for_ready`` waits only the
    first time, when the kernel starts. jupyter_client's wait ends by reading IOPub until it has
    been quiet for 0.2 s, which a new client per notebook paid at every step (and the worker's
    own client once more): an empty notebook took 0.35 s, now 0.03 s plus the reset after it.
    Messages left over from earlier requests do no harm: nbclient, like the worker, reads only
    the replies to its own requests.
    """

    _ready = False

    def start_channels(self, *args: bool, **kwargs: bool) -> None:
        if not self.channels_running:
            super().start_channels(*args, **kwargs)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        if not self._ready:
            await super().wait_for_ready(timeout)
            self._ready = True


class NotebookKernelManager(AsyncKernelManager):
    """A kernel manager whose :meth:`client` (what papermill asks for each notebook) is always the
    same :class:`NotebookClient`. Its event loop is the worker thread's, as is papermill's."""

    client_class = DottedObjectName(f"{__name__}.NotebookClient")
    client_factory = Type(klass=NotebookClient)
    _notebook_client: NotebookClient | None = None

    def client(self, **kwargs: object) -> NotebookClient:
        if self._notebook_client is None:
            self._notebook_client = super().client(**kwargs)
        return self._notebook_client

    def stop_notebook_client(self) -> None:
        if self._notebook_client is not None:
            self._notebook_client.stop_channels()
            self._notebook_client = None


class KernelWorker:
    """One kernel on its own thread; :meth:`submit` queues a notebook on it."""

    def __init__(self, cwd: Path, prelude: str = "") -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel")
        self._km: NotebookKernelManager | None = None
        self._stopping = threading.Event()
        self._queued: list[Future[None]] = []
        self._namespace_clear = False
        self._thread_id: int | None = None
        self.ready: Future[None] = self._thread.submit(self._start, cwd, prelude)

    def _start(self, cwd: Path, prelude: str) -> None:
        self._thread_id = threading.get_ident()
        km = NotebookKernelManager(kernel_name=KERNEL_NAME, config=KERNEL_CONFIG)
        run_sync(km.start_kernel)(cwd=str(cwd), env=kernel_environment(), extra_arguments=KERNEL_ARGUMENTS)
        self._km = km  # from here on interrupt() kills it; if it came earlier, see below
        # The one client of this kernel: for the setup code and the resets, and for papermill.
        # Its wait for the kernel (0.2 s of quiet at least) is paid here, once.
        self._client = km.client()
        self._client.start_channels()
        if self._stopping.is_set():
            raise KernelError("stopped (interrupted) while the kernel was starting")
        run_sync(self._client.wait_for_ready)(timeout=START_TIMEOUT_S)
        if prelude:
            # Inside a function, so that it leaves no names behind and needs no reset. Then the
            # objects of the libraries just imported (~200k) are frozen: the garbage collector
            # never scans them again, and the full collection each reset does took 0.25-0.4 s
            # with them, 0.01-0.06 s without.
            self._run_quietly(
                f"def _setup():\n{textwrap.indent(prelude, '    ')}\n"
                "    import gc\n    gc.freeze()\n_setup()\ndel _setup"
            )
        self._namespace_clear = True

    def _run_quietly(self, code: str) -> None:
        """Execute ``code`` without output or history; raise if it fails."""
        run_sync(self._run_quietly_async)(code)

    async def _run_quietly_async(self, code: str) -> None:
        client = self._client
        msg_id = client.execute(code, silent=True, store_history=False)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                reply = await client.get_shell_msg(timeout=1)
            except queue.Empty:  # look every second whether the kernel was stopped or died
                if self._stopping.is_set() or not await client.is_alive():
                    raise KernelError("the kernel stopped while running setup code") from None
                if time.monotonic() > deadline:
                    raise KernelError(f"the kernel did not answer within {START_TIMEOUT_S} s") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"].get("status") != "ok":
            content = reply["content"]
            raise KernelError(f"kernel setup code failed: {content.get('ename')}: {content.get('evalue')}")

    def _execute(self, notebook: Path, executed_path: Path, parameters: dict) -> None:
        import papermill  # already imported by the runner while the kernel started (see warm_up)

        if self._stopping.is_set():
            raise KernelError(f"{notebook.name} not run: the run was interrupted")
        if not self._namespace_clear:  # the reset after the last notebook failed: again, and raise
            self._run_quietly(RESET_KERNEL)
        self._namespace_clear = False
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
        future = self._thread.submit(self._execute, notebook, executed_path, parameters)
        # The namespace is reset once the notebook is done, not before the next one: a step that
        # needs this one may start at once on the other kernel, already reset.
        self._queued.extend([future, self._thread.submit(self._clear_namespace)])
        return future

    @property
    def namespace_clear(self) -> bool:
        """Whether the next notebook can start at once: the kernel is set up and its namespace
        reset (False while a notebook runs or the reset after it does)."""
        return self._namespace_clear

    def _clear_namespace(self) -> None:
        if self._stopping.is_set():
            return
        try:
            self._run_quietly(RESET_KERNEL)
        except KernelError:
            return  # the next notebook's _execute tries again and reports what failed
        self._namespace_clear = True

    def interrupt(self) -> None:
        """Stop now (Ctrl-C): drop the queued notebooks and kill the kernel's process group, so
        that a running notebook or setup code fails within a second; :meth:`shutdown` then
        returns at once. Safe to call from the runner's thread at any moment."""
        self._stopping.set()
        if self._thread_id is not None:
            _STOPPED_THREADS.add(self._thread_id)
        for future in self._queued:
            future.cancel()  # only those not started; a running one ends when its kernel dies
        km = self._km
        provisioner = getattr(km, "provisioner", None) if km is not None else None
        process = getattr(provisioner, "process", None)
        if process is None:
            return  # not started yet: _start sees _stopping, and shutdown() stops it
        if _forget_if_exited(provisioner):
            return
        try:
            pgid = getattr(provisioner, "pgid", None)
            if pgid and pgid != os.getpgid(0):  # its own group (never the runner's)
                os.killpg(pgid, signal.SIGKILL)
            else:
                process.kill()
        except (ProcessLookupError, PermissionError):
            pass  # exited already

    def _stop(self) -> None:
        if self._km is not None:
            self._km.stop_notebook_client()
            _forget_if_exited(self._km.provisioner)
            run_sync(self._km.shutdown_kernel)(now=True)
            self._km = None

    def shutdown(self) -> None:
        """Stop the kernel (after queued work) and the thread."""
        self._thread.submit(self._stop).result()
        self._thread.shutdown()
        _STOPPED_THREADS.discard(self._thread_id or 0)  # the thread is gone; its id may be reused
