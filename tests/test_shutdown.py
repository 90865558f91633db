"""Killed or stopped runs leave nothing behind: batch workers end with their parent, and
SIGTERM removes temporary files and folders as Ctrl+C does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "datasets" / "samples"
LINE = FIXTURES / "iamondb" / "lineStrokes" / "a01" / "a01-001" / "a01-001z-01.xml"


def _start(*args: str, **env: str) -> subprocess.Popen:
    # SIGINT as in a terminal, even when the tests themselves run in the background (where it is ignored)
    return subprocess.Popen([sys.executable, "-m", "handwriting.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1", **env},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _run_python(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition, timeout: float = 120.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _many_lines(folder: Path, count: int) -> Path:
    folder.mkdir()
    for i in range(count):
        shutil.copy(LINE, folder / f"{i}.xml")
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and pgrep")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_batch_workers_end_with_their_parent(tmp_path, signum):
    lines = _many_lines(tmp_path / "lines", 3000)  # minutes of work: still running when signalled
    out = tmp_path / "out"
    process = _start("recognize", str(lines), "--jobs", "2", "--no-lm", "--output", str(out / "r.txt"))
    assert _wait_for(lambda: len(_children(process.pid)) >= 2)
    workers = _children(process.pid)
    time.sleep(1.0)
    process.send_signal(signum)
    code = process.wait(timeout=60)
    assert code == {signal.SIGKILL: -9, signal.SIGTERM: 143, signal.SIGINT: 130}[signum]
    assert _wait_for(lambda: not any(_running(w) for w in workers), 10)
    assert not out.exists() or not list(out.iterdir())  # no result and no .r.txt.*.tmp


def test_sigterm_removes_the_corpus_folder_of_prepare(tmp_path):
    archive = tmp_path / "iamondb.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(FIXTURES / "iamondb", "iamondb")
        for i in range(3000):  # enough to be caught extracting or reading
            tar.add(LINE, f"iamondb/lineStrokes/a01/a01-001/a01-001z-{i + 10:02d}.xml")
    temp = tmp_path / "temp"
    temp.mkdir()
    process = _start("prepare", "iamondb", str(archive), "--out", str(tmp_path / "prep"), TMPDIR=str(temp))
    assert _wait_for(lambda: list(temp.glob("handwriting-corpus-*")))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143
    assert not list(temp.glob("handwriting-corpus-*"))


def test_sigterm_removes_the_run_folder_of_finetune(tmp_path):
    pytest.importorskip("torch")
    from handwriting.formats import read_inks, write_ink

    data = tmp_path / "mine"
    data.mkdir()
    lines = [ink for line in sorted((FIXTURES / "iamondb" / "lineStrokes").rglob("*.xml")) for ink in read_inks(line)]
    for i in range(4):
        for k, ink in enumerate(lines):
            write_ink(ink, data / f"{i}-{k}.inkml")
    temp = tmp_path / "temp"
    temp.mkdir()
    process = _start("finetune", "--data", str(data), "--out", str(tmp_path / "me.onnx"), "--minutes", "5",
                     TMPDIR=str(temp))
    if not _wait_for(lambda: list(temp.glob("handwriting-finetune-*")) or process.poll() is not None, 300):
        process.kill()
        pytest.fail("finetune did not start")
    assert process.poll() is None, process.stderr.read()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 143, process.stderr.read()
    assert not list(temp.glob("handwriting-finetune-*"))


def test_sigterm_inside_an_atomic_write_leaves_no_temporary_file(tmp_path):
    script = ("import time\nfrom handwriting.atomic import atomic_write\nfrom handwriting.shutdown import exit_on_signals\n"
              f"exit_on_signals()\nwith atomic_write({str(tmp_path / 'out.txt')!r}) as fh:\n"
              "    fh.write('partial'); print('ready', flush=True); time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    assert list(tmp_path.glob(".out.txt.*.tmp"))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 143
    assert not list(tmp_path.iterdir())


def test_a_signal_lost_inside_a_finalizer_still_ends_a_long_loop():
    # Python prints and ignores an exception raised inside __del__, the handler's SystemExit too
    script = ("import os, signal\nfrom handwriting.shutdown import exit_on_signals, exit_if_signalled\nexit_on_signals()\n"
              "class Finalized:\n    def __del__(self):\n        os.kill(os.getpid(), signal.SIGTERM)\n"
              "        for _ in range(10000): pass\n"
              "x = Finalized()\ndel x\nprint('survived', flush=True)\nexit_if_signalled()\nprint('not reached')\n")
    done = _run_python(script)
    assert done.stdout.split() == ["survived"] and done.returncode == 143, done.stderr


@pytest.mark.parametrize("long_loop", ["prepare", "recognize"])
def test_a_recorded_signal_ends_prepare_and_batch_recognition_at_the_next_file(tmp_path, monkeypatch, long_loop):
    from handwriting import shutdown
    from handwriting.recognition.batch import recognize_files
    from handwriting.training.prepare import prepare

    monkeypatch.setattr(shutdown, "_received", [signal.SIGTERM])  # as if its SystemExit had been lost
    with pytest.raises(SystemExit) as stopped:
        if long_loop == "prepare":
            prepare("iamondb", FIXTURES / "iamondb", tmp_path / "prep")
        else:
            list(recognize_files([str(LINE)], lm=None))
    assert stopped.value.code == 143 and not (tmp_path / "prep").exists()


def test_a_signal_wrapped_by_c_code_still_exits_with_its_code():
    # numba's dispatcher turns the handler's SystemExit into SystemError when SIGTERM arrives while it loads a kernel
    script = ("import os, signal, sys\nimport handwriting.cli as cli\nimport handwriting.commands.info as info\n"
              "def run(args):\n    try:\n        os.kill(os.getpid(), signal.SIGTERM)\n        for _ in range(10000): pass\n"
              "    except SystemExit as exc:\n        raise SystemError('returned a result with an exception set') from exc\n"
              "info._run = run\nsys.exit(cli.main(['info', 'any.inkml']))\n")
    done = _run_python(script)
    assert done.returncode == 143 and "Traceback" not in done.stderr, done.stderr
