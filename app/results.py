"""`ResultView`: the recognised text (each word hoverable and clickable) and the n-best list.

Hovering a word emits `wordHovered(index)` (-1 when the mouse leaves it), clicking one
`wordClicked(index)` and opens a menu of that word's other readings (when the final
reading has them): picking one puts it in place of the word. Clicking a line alternative
makes it the chosen text (`chosen`), the label a saved ink gets. Word indices are those
of `Recognition.words`. A page's text shows line by line (up to MAX_ROWS rows, then it
scrolls), the line being written highlighted; a page's alternatives name the lines they
read otherwise. Neither grows the window: long text scrolls, long chips are elided.
"""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCursor, QFont, QFontMetricsF
from PyQt6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMenu, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout,
                             QWidget)

from handwriting.recognition.recognizer import Recognition

__all__ = ["ResultView"]

_LINK_STYLE = "text-decoration: none; color: #192028;"
_CURRENT_LINE = "<span style='background-color: #e3edfc;'>{}</span>"
MAX_ROWS = 3  # rows of a page's text shown at once
TEXT_SCALE, PAGE_TEXT_SCALE = 2.0, 1.4  # the text's size (times the system font's): one line, a page
CHIP_WIDTH = 240  # pixels; a longer alternative is elided (the tooltip has it whole)
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
        font.setPointSizeF(font.pointSizeF() * TEXT_SCALE)
        self.text.setFont(font)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._row = self.text.fontMetrics().lineSpacing()
        page_font = QFont(font)
        page_font.setPointSizeF(font.pointSizeF() * PAGE_TEXT_SCALE / TEXT_SCALE)
        self._page_row = QFontMetricsF(page_font).lineSpacing()
        self._fonts = (font, page_font)
        self.scroller = QScrollArea()
        self.scroller.setWidget(self.text)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setViewportMargins(0, 4, 0, 4)
        self.scroller.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._rows = (0, 0.0)
        self.current_line = 0
        self.text.linkHovered.connect(lambda href: self.wordHovered.emit(int(href[1:]) if href else -1))
        self.text.linkActivated.connect(lambda href: self._word_clicked(int(href[1:])))
        self._chips = QHBoxLayout()
        self._chips.setSpacing(6)
        self._pool: list[QPushButton] = []  # chips made so far, reused (making one costs milliseconds)
        self._buttons: list[QPushButton] = []  # the chips shown, one per alternative
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 4, 10, 4)
        box.setSpacing(2)
        box.addWidget(self.scroller)
        row = QHBoxLayout()
        label = QLabel("alternatives:")
        label.setFixedHeight(QPushButton("x").sizeHint().height())
        row.addWidget(label)
        chips = QWidget()
        chips.setLayout(self._chips)
        self._chips.setContentsMargins(0, 0, 0, 0)
        self._chips.addStretch(1)
        strip = QScrollArea()  # as wide as the window lets it be: chips that do not fit are cut off
        strip.setWidget(chips)
        strip.setWidgetResizable(True)
        strip.setFrameShape(QFrame.Shape.NoFrame)
        strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        strip.setFixedHeight(label.height())
        row.addWidget(strip, 1)
        box.addLayout(row)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setStyleSheet(_CHIP_STYLE)
        self.set_recognition(None)

    def set_recognition(self, recognition: Recognition | None, current_line: int = 0) -> None:
        """Show a result (None: nothing yet), its line `current_line` highlighted when it has
        several; the best alternative becomes the chosen text."""
        self.recognition, self.current_line = recognition, current_line
        self.readings = [w.text for w in recognition.words] if recognition is not None else []
        written = recognition is not None and len(recognition.frames) > 0
        alternatives = recognition.alternatives if written else []
        while len(self._pool) < len(alternatives):
            button = QPushButton()
            button.setCheckable(True)
            button.clicked.connect(lambda _checked, n=len(self._pool): self.choose(n))
            self._chips.insertWidget(len(self._pool), button)
            self._pool.append(button)
        self._buttons = self._pool[:len(alternatives)]
        best = alternatives[0].text.split("\n") if alternatives else []
        for button, alternative in zip(self._buttons, alternatives):
            shown = _visible(_differing(alternative.text, best))
            button.setText(button.fontMetrics().elidedText(shown, Qt.TextElideMode.ElideRight, CHIP_WIDTH))
            button.setToolTip(f"{html.escape(alternative.text)}<br>score {alternative.score:.2f}".replace("\n", "<br>"))
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
            self._show_lines(linked)
        else:
            self._show_lines(html.escape(self.chosen))
        self.chosenChanged.emit(self.chosen)

    def replace_word(self, index: int, reading: str) -> None:
        """Show `reading` in place of word `index` of the best text; it becomes part of the chosen text."""
        if self.recognition is None or not 0 <= index < len(self.readings):
            return
        self.readings[index] = reading
        self.chosen, linked = _compose(self.recognition, self.readings)
        for button in self._buttons:
            button.setChecked(False)
        self._show_lines(linked)
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
        self._show_lines(f"<span style='color: #8a8f99'>{html.escape(text)}</span>")

    def _show_lines(self, linked: str) -> None:
        """Show rich text whose lines are apart by newlines: one row each, the current one
        highlighted when there are several, scrolled into view."""
        rows = linked.split("\n")
        if len(rows) > 1 and 0 <= self.current_line < len(rows):
            rows[self.current_line] = _CURRENT_LINE.format(rows[self.current_line] or "&nbsp;")
        self.text.setText("<br>".join(rows))
        shown = min(len(rows), MAX_ROWS)
        row = self._row if len(rows) == 1 else self._page_row
        if (shown, row) != self._rows:
            self._rows = (shown, row)
            self.text.setFont(self._fonts[len(rows) > 1])
            self.scroller.setFixedHeight(round(shown * row) + 8)
        first = min(max(self.current_line - shown + 1, 0), len(rows) - shown)  # the current line at the bottom
        QTimer.singleShot(0, lambda: self.scroller.verticalScrollBar().setValue(round(first * row)))



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
    return "".join(plain), "".join(linked).replace("  ", " &nbsp;")


def _differing(text: str, best: list[str]) -> str:
    """A page's alternative as the lines it reads otherwise than `best` (`line k: ...`); a
    line's alternative whole."""
    lines = text.split("\n")
    if len(best) < 2 or len(lines) != len(best):
        return text
    changed = [f"line {n + 1}: {_from_change(line, was)}" for n, (line, was) in enumerate(zip(lines, best)) if line != was]
    return "  \u00b7  ".join(changed) if changed else text.replace("\n", " \u21b5 ")


def _from_change(line: str, was: str) -> str:
    """`line` from the word before its first word that differs from `was`'s."""
    words, before = line.split(" "), was.split(" ")
    same = next((k for k, (a, b) in enumerate(zip(words, before)) if a != b), min(len(words), len(before)))
    return line if same <= 1 else "\u2026" + " ".join(words[same - 1:])


def _visible(text: str) -> str:
    """`text` for a button: the empty set for nothing, open boxes for spaces alone."""
    if not text:
        return "\u2205"
    return text.replace("\n", " \u21b5 ") if text.strip() else text.replace(" ", "\u2423")
