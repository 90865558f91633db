"""Fine-tuning from the app (PyQt6, offscreen): the Model menu runs `handwriting finetune` in a
child process, shows its progress, offers the model it wrote, says why it wrote none, and cancels
cleanly.

The base model is a tiny network trained here for a few seconds on one synthetic hand; the
samples are other hands, saved as collect mode saves them (one labelled InkML file each).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QProcess, Qt
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QMessageBox

import app.adapt
from app.adapt import ACTION_TEXT, INSTALL_HINT, Outcome
from app.window import MainWindow
from handwriting.formats import write_ink

WORDS = ["cat", "dog", "sun", "hill", "moon", "tree"]
RUN_TIMEOUT_MS = 120_000
LOAD_TIMEOUT_MS = 60_000  # the model loads in a child process: slow on a busy machine


@pytest.fixture(scope="module")
def base_model(tmp_path_factory) -> Path:
    """A 2x32 BiLSTM trained briefly on one synthetic hand (200 steps, about twenty seconds on one core)."""
    pytest.importorskip("torch")
    from handwriting.training.export import export
    from handwriting.shards import write_shard
    from handwriting.training.synth import synthesize
    from handwriting.training.train import TrainOptions, load_checkpoint, model_from_checkpoint, train

    root = tmp_path_factory.mktemp("base")
    inks = [synthesize(w, font="futural") for w in WORDS]
    write_shard(inks, root / "data" / "train.npz")
    write_shard(inks, root / "data" / "val.npz")
    train(TrainOptions(data=[str(root / "data")], out=str(root / "run"), epochs=200, hidden=32, layers=2,
                       dropout=0.0, lr=1e-2, warmup_steps=5, patience=1000, augment=False, workers=0, seed=1))
    checkpoint = load_checkpoint(root / "run" / "best.pt")
    export(model_from_checkpoint(checkpoint), checkpoint["alphabet"], checkpoint["preprocess"], root / "base.onnx")
    return root / "base.onnx"


def write_samples(folder: Path, font: str, copies: int, words: list[str] = WORDS) -> None:
    """`copies` distorted writings of each word in `font`, one labelled InkML file each."""
    from handwriting.training.synth import synthesize

    rng = np.random.default_rng(3)
    folder.mkdir(parents=True, exist_ok=True)
    for n, word in enumerate(words * copies):
        write_ink(synthesize(word, font=font, rng=rng).with_label(word), folder / f"sample-{n:04d}.inkml")


@pytest.fixture
def window(qtbot, base_model, tmp_path, monkeypatch) -> MainWindow:
    """The app on the base model, collecting into tmp_path/samples; the child's temporary files go to tmp_path/tmp."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    win = MainWindow(base_model, samples=tmp_path / "samples")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.service.modelLoaded, timeout=LOAD_TIMEOUT_MS):
        win.show()
    qtbot.waitExposed(win)
    return win


def menu_action(window: MainWindow, text: str) -> QAction:
    """The action called `text` in the window's menus."""
    actions = [a for menu in window.menuBar().actions() for a in menu.menu().actions() if a.text() == text]
    assert len(actions) == 1, f"no single {text!r} in the menus"
    return actions[0]


def fine_tune(qtbot, window: MainWindow, epochs: int) -> tuple[Outcome, list[tuple[str, int]]]:
    """Fine-tune from the Model menu and wait for the end: the outcome, and what the panel showed per epoch."""
    adaptation = window.adaptation
    adaptation.epochs, adaptation.minutes = epochs, 0.5
    shown: list[tuple[str, int]] = []
    panel = adaptation.panel
    adaptation.job.progress.connect(lambda record: shown.append((panel.label.text(), panel.bar.value())))
    action = menu_action(window, ACTION_TEXT)
    with qtbot.waitSignal(adaptation.job.finished, timeout=RUN_TIMEOUT_MS) as finished:
        action.trigger()
        assert adaptation.panel.isVisible() and not action.isEnabled()
    assert not adaptation.panel.isVisible() and action.isEnabled()
    return finished.args[0], shown


def picker(window: MainWindow) -> list[str]:
    return [window.models.itemData(i) for i in range(window.models.count()) if window.models.itemData(i)]


def test_fine_tuning_shows_progress_and_offers_the_better_model(qtbot, window, tmp_path):
    write_samples(tmp_path / "samples", "timesr", 4)  # a hand the base model reads badly
    outcome, shown = fine_tune(qtbot, window, epochs=20)
    out = tmp_path / "samples" / "my-model.onnx"
    assert outcome.status == "written" and outcome.out == out and out.is_file(), outcome
    assert outcome.cer_after < outcome.cer_before
    assert shown and shown[0][0].startswith("Fine-tuning: epoch 1/20 \u00b7 held-back CER ")
    assert all(0 < value <= 1000 for _, value in shown) and [v for _, v in shown] == sorted(v for _, v in shown)
    assert str(out.resolve()) in picker(window)
    box = window.adaptation.dialog
    assert box.isVisible() and not box.isModal()
    assert f"better: held-back CER {outcome.cer_before:.1%} before, {outcome.cer_after:.1%} after" in box.text()
    assert str(out) in box.informativeText() and "Switch to it now?" in box.informativeText()
    with qtbot.waitSignal(window.service.modelLoaded, timeout=LOAD_TIMEOUT_MS):
        box.button(QMessageBox.StandardButton.Yes).click()
    assert window.models.currentData() == str(out.resolve())


def test_cancel_stops_the_child_and_leaves_no_file(qtbot, window, tmp_path):
    write_samples(tmp_path / "samples", "scripts", 4)
    adaptation = window.adaptation
    adaptation.epochs, adaptation.minutes = 1000, 0.5
    with qtbot.waitSignal(adaptation.job.progress, timeout=RUN_TIMEOUT_MS):
        menu_action(window, ACTION_TEXT).trigger()
    pid = adaptation.job.process.processId()
    with qtbot.waitSignal(adaptation.job.finished, timeout=RUN_TIMEOUT_MS) as finished:
        qtbot.mouseClick(adaptation.panel.cancel, Qt.MouseButton.LeftButton)
    assert finished.args[0].status == "cancelled"
    assert adaptation.job.process.exitStatus() == QProcess.ExitStatus.NormalExit, "interrupted, not killed"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not adaptation.panel.isVisible() and window.statusBar().currentMessage() == "fine-tuning cancelled"
    assert sorted(p.suffix for p in (tmp_path / "samples").iterdir()) == [".inkml"] * 24
    assert not list((tmp_path / "tmp").glob("handwriting-finetune-*")), "the interrupted child cleans up"


def test_a_model_that_is_not_better_is_not_offered(qtbot, window, tmp_path):
    write_samples(tmp_path / "samples", "futural", 2)
    models = picker(window)
    outcome, shown = fine_tune(qtbot, window, epochs=2)
    assert outcome.status == "refused" and len(shown) == 2 and not outcome.out.exists()
    box = window.adaptation.dialog
    assert f"not better: held-back CER {outcome.cer_before:.1%} before, {outcome.cer_after:.1%} after" in box.text()
    assert picker(window) == models


def test_a_failing_run_shows_the_childs_last_error_line(qtbot, window, tmp_path):
    write_samples(tmp_path / "samples", "scripts", 1, WORDS[:3])
    (tmp_path / "samples" / "broken.inkml").write_text("<ink><trace>1 2, 3</trace>")  # skipped, and said so
    outcome, _ = fine_tune(qtbot, window, epochs=2)
    assert outcome.status == "failed"
    assert outcome.reason.startswith("handwriting finetune: need at least 4 labelled inks")
    box = window.adaptation.dialog
    assert box.icon() == QMessageBox.Icon.Warning and box.text() == outcome.reason


def test_an_empty_samples_folder_asks_for_one_and_remembers_it(qtbot, window, tmp_path, monkeypatch):
    chosen = tmp_path / "mine"
    write_samples(chosen, "scripts", 1)
    asked: list[str] = []

    def choose(parent, caption: str, start: str) -> str:
        asked.append(start)
        return str(chosen)

    monkeypatch.setattr(app.adapt.QFileDialog, "getExistingDirectory", choose)
    adaptation = window.adaptation
    assert adaptation.start()
    adaptation.job.shutdown()
    assert asked == [str((tmp_path / "samples").resolve())]
    assert adaptation.job.out == chosen.resolve() / "my-model.onnx"
    assert window.collect_bar.collector.folder == chosen


def test_without_torch_the_menu_says_how_to_install_it(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(app.adapt, "torch_installed", lambda: False)
    window = MainWindow(tmp_path / "no-model.onnx", samples=tmp_path)
    qtbot.addWidget(window)
    menu_action(window, ACTION_TEXT).trigger()
    assert window.adaptation.dialog.informativeText() == INSTALL_HINT and not window.adaptation.job.running
    assert not window.adaptation.panel.isVisible()
