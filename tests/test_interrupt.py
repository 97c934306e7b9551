"""Ctrl-C and worker processes, tried for real in subprocesses: one line, exit 130, no worker
left behind; a script without a __main__ guard asking for workers gets one clear error."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mgrisk._pool import run_chunks
from mgrisk.errors import MgriskError

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /proc")


def _session_members(sid: int) -> list[str]:
    """Live (not zombie) processes of session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(entry.name)
    return found


def _interrupt(argv: list[str], delay: float, tmp_path: Path):
    """Start the CLI in its own session, send SIGINT to the whole group after ``delay`` s (as a
    terminal's Ctrl-C does) and return (exit status, stderr, processes left after 5 s)."""
    p = subprocess.Popen(
        [sys.executable, "-m", "mgrisk.cli", *argv],
        env=ENV,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(delay)
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=30)
    deadline = time.monotonic() + 5
    while (left := _session_members(p.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return p.returncode, err, left


@pytest.mark.parametrize(("jobs", "delay"), [("2", 1.5), ("2", 3.0), ("2", 5.0), ("1", 3.0)])
def test_ctrl_c_during_validate(tmp_path, jobs, delay):
    argv = ["validate", "rotterdam", "--reps", "5000", "--n", "3000", "--jobs", jobs]
    code, err, left = _interrupt([*argv, "--quiet", "--out", "study"], delay, tmp_path)
    assert code == 130, err
    assert err == "mgrisk: interrupted\n"
    assert left == []
    assert list(tmp_path.iterdir()) == []  # no folder, no temporary folder


def test_ctrl_c_during_a_bootstrap_on_two_cores(tmp_path):
    from mgrisk import simulate_cohort

    simulate_cohort("rotterdam", n=20000, seed=2).to_csv(tmp_path / "c.csv", index=False)
    argv = ["fit", "c.csv", "--exposure", "mg", "--time", "exit", "--entry", "entry"]
    argv += ["--event", "event", "--bootstrap", "100000", "--jobs", "2", "--quiet", "--out", "o"]
    code, err, left = _interrupt(argv, 6.0, tmp_path)
    assert code == 130, err
    assert err == "mgrisk: interrupted\n"
    assert left == []


SCRIPT = """
import mgrisk
{body}
"""
UNGUARDED = "study = mgrisk.simulation_study('rotterdam', reps=30, n=600, jobs=2, progress=False)"
IN_FUNCTION = """
def main():
    mgrisk.simulation_study('rotterdam', reps=30, n=600, jobs=2, progress=False)

main()
"""
GUARDED = """
def main():
    study = mgrisk.simulation_study('rotterdam', reps=20, n=600, jobs=2, progress=False)
    print('replicates', study.reps)

if __name__ == '__main__':
    main()
"""


def _script(tmp_path, body):
    path = tmp_path / "study.py"
    path.write_text(SCRIPT.format(body=textwrap.dedent(body)))
    return subprocess.run(
        [sys.executable, str(path)], env=ENV, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("body", [UNGUARDED, IN_FUNCTION], ids=["top level", "in a function"])
def test_a_script_without_main_guard_gets_one_clear_error(tmp_path, body):
    done = _script(tmp_path, body)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("mgrisk.errors.MgriskError: ")
    assert 'outside `if __name__ == "__main__":`' in last and "study.py, line" in last
    assert "BrokenProcessPool" not in done.stderr and "bootstrapping phase" not in done.stderr


def test_a_guarded_script_runs_on_two_cores(tmp_path):
    done = _script(tmp_path, GUARDED)
    assert done.returncode == 0, done.stderr
    assert "replicates 20" in done.stdout


def _die(chunk):
    if chunk == 0:
        os._exit(3)  # a worker killed (out of memory, kill -9)
    time.sleep(0.5)
    return chunk


def test_a_dying_worker_is_one_clear_error():
    with pytest.raises(MgriskError, match=r"a worker process stopped unexpectedly"):
        list(run_chunks(_die, list(range(4)), jobs=2))


def test_an_interrupt_that_c_code_drops_is_raised_again():
    """Ctrl-C while C code runs a Python callback (numba's compiler stores each kernel in its
    cache that way): ctypes prints the KeyboardInterrupt and drops it; the command line raises
    it again, so that the run ends instead of going on."""
    import ctypes

    from mgrisk.cli import _interrupts

    @ctypes.CFUNCTYPE(None)
    def callback():
        signal.raise_signal(signal.SIGINT)  # the handler raises here, inside the callback
        sum(range(1000))

    with pytest.raises(KeyboardInterrupt), _interrupts() as seen:
        callback()
        time.sleep(5)  # the run going on: never reached when the interrupt is raised again
    assert seen["interrupted"]


def test_ctrl_c_in_a_held_block_is_raised_when_it_ends():
    """A Ctrl-C that another thread takes while the pool starts or stops its workers waits for
    the block to end (else a worker started but not yet counted would be left running)."""
    import threading

    from mgrisk._pool import _sigint_held

    reached = []
    with pytest.raises(KeyboardInterrupt), _sigint_held():
        sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT))
        sender.start()  # this thread has SIGINT blocked: the sender's thread takes it
        sender.join()
        time.sleep(0.2)  # Python's handler runs on this thread meanwhile
        reached.append("end of the block")
    assert reached == ["end of the block"]


def test_ctrl_c_while_futures_are_looked_at_waits_for_the_look_to_end():
    """Ctrl-C never lands while this thread holds a future's lock (the pool's own thread would
    wait for that lock forever, and so would the shutdown): it is raised after the look."""
    import threading
    from concurrent.futures import Future

    from mgrisk._pool import _finished

    never = Future()  # a chunk still running in a worker
    timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        assert _finished([never], timeout=0.5) == []
    assert time.monotonic() - start >= 0.45  # the look ran to its end first
    timer.join()
