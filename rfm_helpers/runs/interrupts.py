"""Ctrl-C in the runner: one line and exit code 130, never a traceback, never half a swap.

``python -m rfm_helpers.runs.runner`` imports this module before its slower imports (pydantic,
jinja2, …: about a second). From then until ``runner.main`` starts, Ctrl-C exits at once with a
one-line message and :data:`EXIT_INTERRUPTED`. ``runner.main`` then gives SIGINT back to
Python's handler (KeyboardInterrupt), which ``runner.run`` turns into a message saying what was
left as it was. :func:`deferred` holds Ctrl-C during the few operations that must not stop
half-way (swapping a report in, stopping the kernels). :func:`exit_program` ends the process with
the run's exit code, also after a Ctrl-C that CPython would otherwise turn into a SIGINT death.

Imported as a library (tests, notebooks), the module changes nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import NoReturn

EXIT_INTERRUPTED = 130
"""128 + SIGINT: what shells report for a program stopped with Ctrl-C."""
PROGRAM = "rfm_helpers.runs.runner"
STARTING_MESSAGE = "Interrupted while starting: nothing was run or published."


def _exit_while_starting(signum: int, frame: object) -> None:
    print(STARTING_MESSAGE, file=sys.stderr, flush=True)
    raise SystemExit(EXIT_INTERRUPTED)  # SystemExit: Python exits without a traceback


def _is_program(module: str) -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec is not None and spec.name == module


def guard_startup(module: str = PROGRAM) -> bool:
    """When ``module`` is the program being run (``python -m``) and nobody changed Python's
    SIGINT handler, make Ctrl-C exit quietly until :func:`end_startup`. Returns whether it did."""
    if not _is_program(module) or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return False
    signal.signal(signal.SIGINT, _exit_while_starting)
    return True


_REQUESTED = threading.Event()
"""Set by :func:`_interrupt`: a Ctrl-C came (whether or not its KeyboardInterrupt got through)."""


def _interrupt(signum: int, frame: object) -> None:
    """Python's own handler (KeyboardInterrupt), remembering the Ctrl-C. Python drops a
    KeyboardInterrupt raised while it runs a weakref callback or a ``__del__`` (it prints
    "Exception ignored in ...") and the run would go on; :func:`check` raises it again."""
    _REQUESTED.set()
    raise KeyboardInterrupt


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """``sys.unraisablehook`` of the runner: a Ctrl-C that Python dropped is not printed (a
    traceback the user need not see); :func:`check` raises it again. Anything else is printed as usual."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and _REQUESTED.is_set():
        return
    sys.__unraisablehook__(unraisable)


def end_startup() -> None:
    """From here on Ctrl-C raises KeyboardInterrupt again (the runner reports it in one line)."""
    if signal.getsignal(signal.SIGINT) is _exit_while_starting:
        _REQUESTED.clear()
        signal.signal(signal.SIGINT, _interrupt)
        sys.unraisablehook = _unraisable


def check() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C came: the runner calls this while it waits for the
    kernels, so that a Ctrl-C Python dropped still stops the run (seen once in CI: the run went on
    and the test's 15 s ran out)."""
    if _REQUESTED.is_set():
        raise KeyboardInterrupt


def exit_program(code: int) -> NoReturn:
    """End the program with ``code``; a Ctrl-C that comes from now on is ignored.

    After a Ctrl-C, the process ends with ``os._exit`` once Python's exit handlers have run and
    the output is flushed, not through the interpreter's own exit. CPython remembers a
    KeyboardInterrupt that stopped code run from a string (``exec``/``eval`` of text, as
    dataclasses and namedtuple do when a class is created, e.g. during an import) as unhandled,
    even when the program caught it, and then kills itself with SIGINT at exit: status -2
    instead of 130, seen once in CI after the runner had printed its one line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run is over: a late Ctrl-C prints nothing
    if not _REQUESTED.is_set():
        sys.exit(code)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block is done, then deliver it (KeyboardInterrupt).

    Only in the main thread (the only one Python delivers signals to). If the block raises,
    that exception wins and a held Ctrl-C is dropped: the run is ending anyway."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        if callable(previous):  # Python's handler raises KeyboardInterrupt; an outer deferred() holds it
            previous(signal.SIGINT, None)
        elif previous == signal.SIG_DFL:
            raise KeyboardInterrupt


guard_startup()
