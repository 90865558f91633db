"""The recognition side of the library runs on numpy, scipy and onnxruntime alone: importing
it (and reading a line with it) never imports torch or Qt; the public names import as documented."""

from __future__ import annotations

import subprocess
import sys

import pytest

RECOGNITION = ["handwriting", "handwriting.recognizer", "handwriting.layout", "handwriting.decode", "handwriting.lm",
               "handwriting.explain", "handwriting.formats", "handwriting.modelfile", "handwriting.preprocess",
               "handwriting.modes", "handwriting.batch"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", RECOGNITION)
def test_recognition_modules_import_neither_torch_nor_qt(module):
    loaded = _modules_after(f"import {module}")
    assert not {"torch", "PyQt6", "app"} & loaded


def test_reading_a_line_imports_neither_torch_nor_qt():
    loaded = _modules_after(
        "from handwriting import Recognizer, Ink\n"
        "import numpy as np\n"
        "t = np.linspace(0, 6.3, 80)\n"
        "Recognizer().recognize(Ink((np.column_stack([t * 20, 10 * np.sin(t)]),)))")
    assert "onnxruntime" in loaded and not {"torch", "PyQt6", "app"} & loaded


def test_the_public_names_import_from_the_package():
    import handwriting
    from handwriting import PageReader, Reading, Recognition, Recognizer, read_inks, write_ink  # noqa: F401

    assert Recognizer.__module__ == "handwriting.recognizer" and callable(read_inks)
    assert all(getattr(handwriting, name) is not None for name in handwriting.__all__)
    with pytest.raises(AttributeError):
        handwriting.no_such_name  # noqa: B018


def test_no_module_of_the_library_imports_qt_or_the_app():
    loaded = _modules_after(
        "import pkgutil, importlib, handwriting\n"
        "for m in pkgutil.walk_packages(handwriting.__path__, 'handwriting.'):\n"
        "    importlib.import_module(m.name)")
    assert "handwriting.commands.pdf" in loaded and "handwriting.serve.app" in loaded  # every module was imported
    assert not {"PyQt6", "app"} & loaded
