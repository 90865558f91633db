"""The recognition side of the library (handwriting.recognition, handwriting.formats and the core
modules) runs on numpy, numba and onnxruntime alone: importing any of its modules, and reading
a line with it, never imports torch or Qt; the training side needs torch; nothing in the library
imports the app; the public names import as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _modules_of(package: str) -> list[str]:
    """Every module of a subpackage, found on disk so that a new module is checked too."""
    import handwriting

    folder = Path(handwriting.__file__).parent / package.split(".", 1)[1].replace(".", "/")
    return [package] + [f"{package}.{p.stem}" for p in sorted(folder.glob("*.py")) if p.stem != "__init__"]


RECOGNITION = ["handwriting", *_modules_of("handwriting.recognition"), *_modules_of("handwriting.formats")]


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
    assert "onnxruntime" in loaded and not {"torch", "PyQt6", "app", "scipy"} & loaded


def test_the_public_names_import_from_the_package():
    import handwriting
    from handwriting import PageReader, Reading, Recognition, Recognizer, read_inks, write_ink  # noqa: F401

    assert Recognizer.__module__ == "handwriting.recognition.recognizer" and callable(read_inks)
    assert all(getattr(handwriting, name) is not None for name in handwriting.__all__)
    with pytest.raises(AttributeError):
        handwriting.no_such_name  # noqa: B018


def test_the_recognition_side_is_what_its_subpackage_holds():
    assert {"handwriting.recognition.recognizer", "handwriting.recognition.decode", "handwriting.recognition.lm",
            "handwriting.formats.page"} <= set(RECOGNITION)


def test_the_training_side_needs_torch():
    loaded = _modules_after("import handwriting.training.train")
    assert "torch" in loaded and not {"PyQt6", "app"} & loaded


def test_no_module_of_the_library_imports_qt_or_the_app():
    loaded = _modules_after(
        "import pkgutil, importlib, handwriting\n"
        "for m in pkgutil.walk_packages(handwriting.__path__, 'handwriting.'):\n"
        "    importlib.import_module(m.name)")
    assert "handwriting.commands.pdf" in loaded and "handwriting.serve.app" in loaded  # every module was imported
    assert not {"PyQt6", "app"} & loaded


def test_only_the_commands_reach_into_training():
    """The arrows point one way: the core, formats, recognition and the service never import training."""
    import ast

    import handwriting

    root = Path(handwriting.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        part = path.relative_to(root).parts[0]
        if part in {"training", "commands"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(root)}: {n}" for n in names if n.startswith("handwriting.training")]
    assert offenders == []
