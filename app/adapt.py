"""Fine-tuning from the app: `handwriting finetune` on the collected samples, in a child process.

`FinetuneJob` runs the command through a QProcess, so torch is never imported into the GUI
process and the pad keeps working; it reads the JSON records the command prints (one per
epoch, then the report) and tells how the run ended. `Adaptation` is the Model menu's "Fine-tune on collected
samples…": it takes the collect-mode folder, picks a free `my-model.onnx` in it, starts from
the loaded model, shows progress in the status bar with a Cancel button, and offers the
adapted model when one was written. Cancelling interrupts the child (SIGINT, so it removes
its temporary files; it is killed if it does not stop soon); the model file is written
atomically, so a cancelled run never leaves one behind.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PyQt6.QtCore import QElapsedTimer, QObject, QProcess, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton,
                             QWidget)

from app.collect import CollectBar
from handwriting.formats import expand_paths
from handwriting.training.train_options import FinetuneOptions

__all__ = ["Adaptation", "FinetuneJob", "FinetunePanel", "Outcome", "INSTALL_HINT", "output_path", "torch_installed"]

ACTION_TEXT = "Fine-tune on collected samples\u2026"
INSTALL_HINT = ("Install the train extra, then restart the app:\n"
                "    pip install 'handwriting[train]'\n"
                "(in a checkout: pip install -e '.[train]')")
OUTPUT_STEM = "my-model"
KILL_AFTER_MS = 15000  # how long a cancelled child may take to clean up before it is killed
STDERR_TAIL = 4000  # characters of the child's stderr kept for its last line
# `handwriting ...` with Python's SIGINT handler back in place (a child of an app started in the
# background inherits SIGINT ignored), so that Cancel can interrupt it and it cleans up.
_CLI = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from handwriting.cli import main; sys.exit(main())")


def torch_installed() -> bool:
    """Whether this Python can fine-tune (found without importing torch)."""
    return importlib.util.find_spec("torch") is not None


def output_path(folder: Path) -> Path:
    """`my-model.onnx` in `folder`, else the first free `my-model-N.onnx`."""
    path, n = folder / f"{OUTPUT_STEM}.onnx", 2
    while path.exists():
        path, n = folder / f"{OUTPUT_STEM}-{n}.onnx", n + 1
    return path


@dataclass(frozen=True)
class Outcome:
    """How a run ended: "written", "refused" (not better on the held-back samples), "failed" or "cancelled"."""

    status: str
    out: Path
    cer_before: float | None = None
    cer_after: float | None = None
    reason: str = ""  # why it failed: the child's last stderr line


class FinetuneJob(QObject):
    """One `handwriting finetune` child. `progress(record)` per epoch; `finished(Outcome)` once, at the end."""

    progress = pyqtSignal(dict)
    finished = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)
        self._killer = QTimer(self)
        self._killer.setSingleShot(True)
        self._killer.setInterval(KILL_AFTER_MS)
        self._killer.timeout.connect(self.process.kill)
        self.out = Path()
        self._reset()

    def _reset(self) -> None:
        self._cancelled = False
        self._stdout = b""
        self._stderr = ""
        self._cers: tuple[float, float] | None = None  # (before, after) from the summary line

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, data: Path, out: Path, base: Path | None, epochs: int, minutes: float) -> None:
        """Fine-tune `base` (the shipped model when None) on the inks in `data`, writing `out` if it gets better."""
        self._reset()
        self.out = out
        args = ["-u", "-c", _CLI, "finetune", "--json", "--data", str(data), "--out", str(out),
                "--epochs", str(epochs), "--minutes", str(minutes)]
        if base is not None:
            args += ["--base", str(base)]
        self.process.start(sys.executable, args)

    def cancel(self) -> None:
        """Interrupt the child so that it cleans up; kill it if it is still there after KILL_AFTER_MS."""
        if not self.running:
            return
        self._cancelled = True
        pid = self.process.processId()
        if os.name == "posix" and pid:
            os.kill(pid, signal.SIGINT)
            self._killer.start()
        else:
            self.process.kill()

    def shutdown(self) -> None:
        """Cancel and wait for the child to be gone (when the app closes)."""
        self.cancel()
        if self.running and not self.process.waitForFinished(KILL_AFTER_MS):
            self.process.kill()
            self.process.waitForFinished()

    def _read_stdout(self, final: bool = False) -> None:
        *lines, self._stdout = (self._stdout + bytes(self.process.readAllStandardOutput())).split(b"\n")
        if final:
            lines.append(self._stdout)
        for line in (raw.decode("utf-8", "replace").strip() for raw in lines):
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and "epoch" in record:
                    self.progress.emit(record)
                elif isinstance(record, dict) and isinstance(record.get("report"), dict):
                    report = record["report"]
                    self._cers = (float(report["cer_before"]), float(report["cer_after"]))

    def _read_stderr(self) -> None:
        text = self._stderr + bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        self._stderr = text[-STDERR_TAIL:]

    def _last_error_line(self) -> str:
        lines = [line.strip() for line in re.split(r"[\r\n]", self._stderr) if line.strip()]
        return lines[-1] if lines else ""

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._killer.stop()
        self._read_stdout(final=True)
        self._read_stderr()
        before, after = self._cers or (None, None)
        if self._cancelled:
            outcome = Outcome("cancelled", self.out)
        elif status == QProcess.ExitStatus.NormalExit and code == 0 and self.out.is_file():
            outcome = Outcome("written", self.out, before, after)
        elif status == QProcess.ExitStatus.NormalExit and self._cers is not None:
            outcome = Outcome("refused", self.out, before, after)
        else:
            reason = self._last_error_line() or f"it stopped with exit code {code}"
            outcome = Outcome("failed", self.out, reason=reason)
        self.finished.emit(outcome)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:  # else `finished` follows
            self.finished.emit(Outcome("failed", self.out, reason=self.process.errorString()))


class FinetunePanel(QWidget):
    """The status-bar strip while a run goes on: what it is doing, a progress bar and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setMaximumHeight(16)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 6, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel)
        self.hide()

    def show_state(self, text: str, fraction: float | None) -> None:
        """Show `text` and `fraction` done (None: not known yet, a busy bar)."""
        self.label.setText(text)
        self.bar.setRange(0, 0 if fraction is None else 1000)
        if fraction is not None:
            self.bar.setValue(round(1000 * min(1.0, fraction)))
        self.show()


class Adaptation(QObject):
    """The Model menu's fine-tuning: `action` starts it, `panel` goes in the status bar.

    `modelWritten(Path)` when a better model was written (for the model picker);
    `switchRequested(Path)` when the user chose to use it.
    """

    modelWritten = pyqtSignal(object)
    switchRequested = pyqtSignal(object)

    def __init__(self, window: QMainWindow, collect: CollectBar, base: Callable[[], Path | None]) -> None:
        super().__init__(window)
        self.window, self.collect, self.base = window, collect, base
        defaults = FinetuneOptions(data=[], out="")
        self.epochs, self.minutes = defaults.epochs, defaults.minutes or 0.0
        self.dialog: QMessageBox | None = None  # the last message shown
        self.action = QAction(ACTION_TEXT, self)
        self.action.triggered.connect(self.start)
        self.panel = FinetunePanel()
        self.job = FinetuneJob(self)
        self.panel.cancel.clicked.connect(self.job.cancel)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self._clock = QElapsedTimer()
        self._best: float | None = None

    def start(self) -> bool:
        """Start fine-tuning on the samples folder (asking for one when it holds no samples)."""
        if not torch_installed():
            self._tell(QMessageBox.Icon.Information, "Fine-tuning is not installed",
                       "Fine-tuning needs PyTorch, which is not installed with this Python.", INSTALL_HINT)
            return False
        folder = None if self.job.running else self._samples_folder()
        if folder is None:
            return False
        self.job.start(folder, output_path(folder), self.base(), self.epochs, self.minutes)
        self._clock.start()
        self._best = None
        self.action.setEnabled(False)
        self.panel.show_state(f"Fine-tuning on {_count_samples(folder)} samples: starting\u2026", None)
        return True

    def shutdown(self) -> None:
        self.job.shutdown()

    def _samples_folder(self) -> Path | None:
        folder = (self.collect.collector.folder or Path.home()).resolve()
        if self.collect.collector.folder is not None and _count_samples(folder):
            return folder
        chosen = QFileDialog.getExistingDirectory(self.window, "Folder with your samples", str(folder))
        if not chosen:
            return None
        if not _count_samples(Path(chosen)):
            self._tell(QMessageBox.Icon.Warning, "No samples to fine-tune on",
                       f"{chosen} holds no ink files: collect some first (File \u203a Collect samples).")
            return None
        self.collect.set_folder(chosen)
        return Path(chosen).resolve()

    def _progress(self, record: dict) -> None:
        epoch, cer = int(record["epoch"]), record.get("val_cer")
        if cer is not None:
            self._best = cer if self._best is None else min(self._best, cer)
        text = f"Fine-tuning: epoch {epoch}/{self.epochs}"
        if cer is not None:
            text += f" \u00b7 held-back CER {cer:.1%} (best {self._best:.1%})"
        elapsed = self._clock.elapsed() / 60000 / self.minutes if self.minutes else 0.0
        self.panel.show_state(text, max(epoch / self.epochs, elapsed))

    def _finished(self, outcome: Outcome) -> None:
        self.panel.hide()
        self.action.setEnabled(True)
        if outcome.status == "written":
            self.modelWritten.emit(outcome.out)
            box = self._tell(QMessageBox.Icon.Question, "Fine-tuning done",
                             f"The fine-tuned model is better: held-back CER {_cers(outcome)}.",
                             f"Saved as {outcome.out}, and added to the model list.\n\nSwitch to it now?",
                             QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            box.button(QMessageBox.StandardButton.Yes).clicked.connect(lambda: self.switchRequested.emit(outcome.out))
        elif outcome.status == "refused":
            self._tell(QMessageBox.Icon.Information, "Fine-tuning done",
                       f"The fine-tuned model is not better: held-back CER {_cers(outcome)}.",
                       "So it was not saved. More samples may help.")
        elif outcome.status == "failed":
            self._tell(QMessageBox.Icon.Warning, "Fine-tuning failed", outcome.reason)
        else:
            self.window.statusBar().showMessage("fine-tuning cancelled", 4000)

    def _tell(self, icon: QMessageBox.Icon, title: str, text: str, details: str = "",
              buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok) -> QMessageBox:
        """A message that does not block: the pad keeps working behind it."""
        box = QMessageBox(icon, title, text, buttons, self.window)
        box.setInformativeText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.NonModal)  # not open(): that would block the window
        box.show()
        self.dialog = box
        return box


def _count_samples(folder: Path) -> int:
    return len(expand_paths([folder])) if folder.is_dir() else 0


def _cers(outcome: Outcome) -> str:
    return f"{outcome.cer_before:.1%} before, {outcome.cer_after:.1%} after"
