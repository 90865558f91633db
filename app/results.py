"""`ResultView`: the recognised text (each word hoverable and clickable) and the n-best list.

Hovering a word emits `wordHovered(index)` (-1 when the mouse leaves it), clicking one
`wordClicked(index)` and opens a menu of that word's other readings (when the final
reading has them): picking one puts it in place of the word. Clicking a line alternative
makes it the chosen text (`chosen`), the label a saved ink gets. Word indices are those
of `Recognition.words`.
"""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QCursor, QFont
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from handwriting.recognizer import Recognition

__all__ = ["ResultView"]

_LINK_STYLE = "text-decoration: none; color: #192028;"
_LINE_BREAK = "<span style='color: #8a8f99'> \u21b5 </span>"  # the label shows one row: line breaks as arrows
_CHIP_STYLE = ("QPushButton { border: 1px solid #c9d2de; border-radius: 10px; padding: 2px 10px; background: #f4f6f9; }"
               "QPushButton:checked { background: #146ee6; color: white; border-color: #146ee6; }")


class ResultView(QWidget):
    wordHovered = pyqtSignal(int)
    wordClicked = pyqtSignal(int)
    chosenChanged = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recognition: Recognition | None = None
        self.chosen = ""
        self.readings: list[str] = []  # the shown reading of every word of the best text
        self.word_menu = QMenu(self)
        self.text = QLabel()
        font = QFont(self.text.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        self.text.setFont(font)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.text.setFixedHeight(self.text.fontMetrics().height() + 12)
        self.text.linkHovered.connect(lambda href: self.wordHovered.emit(int(href[1:]) if href else -1))
        self.text.linkActivated.connect(lambda href: self._word_clicked(int(href[1:])))
        self._chips = QHBoxLayout()
        self._chips.setSpacing(6)
        self._pool: list[QPushButton] = []  # chips made so far, reused (making one costs milliseconds)
        self._buttons: list[QPushButton] = []  # the chips shown, one per alternative
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 4, 10, 4)
        box.setSpacing(2)
        box.addWidget(self.text)
        row = QHBoxLayout()
        label = QLabel("alternatives:")
        label.setFixedHeight(QPushButton("x").sizeHint().height())
        row.addWidget(label)
        row.addLayout(self._chips)
        row.addStretch(1)
        box.addLayout(row)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setStyleSheet(_CHIP_STYLE)
        self.set_recognition(None)

    def set_recognition(self, recognition: Recognition | None) -> None:
        """Show a result (None: nothing yet); the best alternative becomes the chosen text."""
        self.recognition = recognition
        self.readings = [w.text for w in recognition.words] if recognition is not None else []
        written = recognition is not None and len(recognition.frames) > 0
        alternatives = recognition.alternatives if written else []
        while len(self._pool) < len(alternatives):
            button = QPushButton()
            button.setCheckable(True)
            button.clicked.connect(lambda _checked, n=len(self._pool): self.choose(n))
            self._chips.addWidget(button)
            self._pool.append(button)
        self._buttons = self._pool[:len(alternatives)]
        for button, alternative in zip(self._buttons, alternatives):
            button.setText(_visible(alternative.text))
            button.setToolTip(f"score {alternative.score:.2f}")
        for n, button in enumerate(self._pool):
            button.setVisible(n < len(alternatives))
        if not alternatives:
            self.chosen = ""
            self._show_placeholder("write on the pad above")
        else:
            self.choose(0)

    def choose(self, number: int) -> None:
        """Make alternative `number` the chosen text."""
        if self.recognition is None or not 0 <= number < len(self.recognition.alternatives):
            return
        self.chosen = self.recognition.alternatives[number].text
        for n, button in enumerate(self._buttons):
            button.setChecked(n == number)
        if not self.chosen.strip():
            self._show_placeholder("(nothing recognised)" if not self.chosen else "(only spaces recognised)")
        elif number == 0:
            self.readings = [w.text for w in self.recognition.words]
            self.chosen, linked = _compose(self.recognition, self.readings)
            self.text.setText(linked)
        else:
            self.text.setText(html.escape(self.chosen).replace("\n", _LINE_BREAK))
        self.chosenChanged.emit(self.chosen)

    def replace_word(self, index: int, reading: str) -> None:
        """Show `reading` in place of word `index` of the best text; it becomes part of the chosen text."""
        if self.recognition is None or not 0 <= index < len(self.readings):
            return
        self.readings[index] = reading
        self.chosen, linked = _compose(self.recognition, self.readings)
        for button in self._buttons:
            button.setChecked(False)
        self.text.setText(linked)
        self.chosenChanged.emit(self.chosen)

    def _word_clicked(self, index: int) -> None:
        self.wordClicked.emit(index)
        words = self.recognition.words if self.recognition is not None else []
        if not 0 <= index < len(words) or len(words[index].alternatives) < 2:
            return
        self.word_menu.clear()
        for reading in words[index].alternatives:
            action = self.word_menu.addAction(reading)
            action.setCheckable(True)
            action.setChecked(reading == self.readings[index])
            action.triggered.connect(lambda _checked, r=reading: self.replace_word(index, r))
        self.word_menu.popup(QCursor.pos())

    def show_message(self, text: str) -> None:
        """Show `text` greyed in place of a result (the result and chosen text are cleared)."""
        self.set_recognition(None)
        self._show_placeholder(text)

    def _show_placeholder(self, text: str) -> None:
        self.text.setText(f"<span style='color: #8a8f99'>{html.escape(text)}</span>")



def _compose(recognition: Recognition, readings: list[str]) -> tuple[str, str]:
    """The best text with word k read as `readings[k]`: as plain text, and as rich text with
    every word a link `w<k>`."""
    plain, linked, position = [], [], 0
    text = recognition.text
    for index, (word, reading) in enumerate(zip(recognition.words, readings)):
        found = text.find(word.text, position)
        if found < 0:
            continue
        plain += [text[position:found], reading]
        linked += [html.escape(text[position:found]), f"<a href='w{index}' style='{_LINK_STYLE}'>{html.escape(reading)}</a>"]
        position = found + len(word.text)
    plain.append(text[position:])
    linked.append(html.escape(text[position:]))
    return "".join(plain), "".join(linked).replace("  ", " &nbsp;").replace("\n", _LINE_BREAK)


def _visible(text: str) -> str:
    """`text` for a button: the empty set for nothing, open boxes for spaces alone."""
    if not text:
        return "\u2205"
    return text.replace("\n", " \u21b5 ") if text.strip() else text.replace(" ", "\u2423")
