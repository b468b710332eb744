"""Ctrl-C handling of the runner (``rfm_helpers.runs.interrupts``): held during critical blocks and
delivered after them; the quiet start-up handler only when the runner is the program."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rfm_helpers.paths import PROJECT_ROOT
from rfm_helpers.runs import interrupts


@pytest.fixture(autouse=True)
def default_sigint():
    """Python's own Ctrl-C handler before each test (another test in the session, Spark's
    local mode, installs its own), and whatever was there back afterwards."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # Python runs the handler at the next bytecode boundary


def test_ctrl_c_inside_a_deferred_block_arrives_after_it() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        ctrl_c()
        done.append("the block went on")
    assert done == ["the block went on"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nested_blocks_deliver_it_after_the_outer_one() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        with interrupts.deferred():
            ctrl_c()
            steps.append("inner")
        steps.append("outer")
    assert steps == ["inner", "outer"]


def test_without_ctrl_c_nothing_happens() -> None:
    with interrupts.deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_error_in_the_block_wins() -> None:
    with pytest.raises(ValueError), interrupts.deferred():
        ctrl_c()
        raise ValueError("the block failed")


def test_start_up_guard_only_when_the_runner_is_the_program() -> None:
    assert interrupts.guard_startup() is False  # pytest is the program here
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_while_the_program_starts_exits_130_in_one_line(tmp_path: Path) -> None:
    """A program that guards its start-up as the runner does (``python -m``), then gets Ctrl-C
    before its main()."""
    (tmp_path / "slow_start.py").write_text(
        "import os, signal, time\n"
        "from rfm_helpers.runs import interrupts\n"
        "assert interrupts.guard_startup('slow_start')\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(5)\n"
        "print('not reached')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "slow_start"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr == "Interrupted while starting: nothing was run or published.\n"
    assert done.stdout == ""


def test_a_ctrl_c_that_python_drops_is_raised_again_by_check(monkeypatch) -> None:
    """A KeyboardInterrupt raised in a weakref callback is printed and dropped by Python (as in
    one CI run, where the run then went on); the runner's wait loop calls check(), which raises it."""
    import weakref

    dropped: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)
    monkeypatch.setattr(interrupts, "_REQUESTED", interrupts.threading.Event())
    interrupts.check()  # no Ctrl-C yet: nothing happens

    class Thing:
        pass

    thing = Thing()
    ref = weakref.ref(thing, lambda _: interrupts._interrupt(signal.SIGINT, None))
    del thing  # the callback runs now and raises KeyboardInterrupt, which Python drops
    assert ref() is None
    assert [type(d.exc_value) for d in dropped] == [KeyboardInterrupt]  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        interrupts.check()


def run_program(tmp_path: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    """``python -m name`` for a program written to ``tmp_path``, as the runner is started."""
    (tmp_path / f"{name}.py").write_text(source)
    return subprocess.run(
        [sys.executable, "-m", name],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )


PROGRAM_WITH_ITS_CTRL_C_IN = """\
import atexit, os, signal, sys, time
from rfm_helpers.runs import interrupts
assert interrupts.guard_startup("{name}")
interrupts.end_startup()
atexit.register(lambda: print("exit handlers ran", file=sys.stderr))
try:
    {code}
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
interrupts.exit_program(130)
"""


@pytest.mark.parametrize(
    "code",
    [
        "os.kill(os.getpid(), signal.SIGINT); time.sleep(5)",
        # code run from a string, as dataclasses and namedtuple run theirs: CPython then marks the
        # KeyboardInterrupt unhandled although it was caught, and sys.exit(130) would end in SIGINT (-2)
        'exec("import os, signal, time\\nos.kill(os.getpid(), signal.SIGINT)\\ntime.sleep(5)")',
        # Python drops a KeyboardInterrupt raised in a weakref callback (seen in CI): not printed,
        # and check() raises it again
        "import weakref; thing = type('Thing', (), {})(); "
        "ref = weakref.ref(thing, lambda _: (os.kill(os.getpid(), signal.SIGINT), time.sleep(5))); "
        "del thing; interrupts.check()",
    ],
    ids=["in the program", "in code run from a string", "in a weakref callback"],
)
def test_interrupted_program_exits_130_after_its_exit_handlers(tmp_path: Path, code: str) -> None:
    source = PROGRAM_WITH_ITS_CTRL_C_IN.format(name="interrupted", code=code)
    done = run_program(tmp_path, "interrupted", source)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "interrupted\nexit handlers ran\n"


def test_program_without_ctrl_c_exits_with_its_code(tmp_path: Path) -> None:
    source = (
        "import atexit, sys\n"
        "from rfm_helpers.runs import interrupts\n"
        "atexit.register(lambda: print('exit handlers ran', file=sys.stderr))\n"
        "interrupts.exit_program(3)\n"
    )
    done = run_program(tmp_path, "plain_exit", source)
    assert (done.returncode, done.stderr) == (3, "exit handlers ran\n")
