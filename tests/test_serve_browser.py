"""The web pad and the Handwriting Recognition API polyfill in a real headless Chromium.

The pad is written on with pen pointer events (WebDriver actions) along a real IAM-OnDB
line and its reading is read back from the page; the polyfill is loaded into another page
and driven through the WICG API with the same line. Set SERVE_SCREENSHOT=path.png to keep
a screenshot of the pad (docs/web-pad.png is made that way).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from handwriting.metrics import error_rates

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium and chromium-driver "
                                "(apt-get install chromium chromium-driver)")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.common.actions import interaction  # noqa: E402
from selenium.webdriver.common.actions.action_builder import ActionBuilder  # noqa: E402
from selenium.webdriver.common.actions.pointer_input import PointerInput  # noqa: E402
from serve_support import fixture_inks  # noqa: E402

from handwriting.recognition.recognizer import Recognizer  # noqa: E402
from handwriting.serve.launch import launch  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,860"]


@pytest.fixture(scope="module")
def server():
    with launch("--workers", "1") as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def wait_for(condition, timeout: float = 60, what: str = "the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def text_of(browser, element_id: str) -> str:
    return browser.execute_script(f"return document.getElementById('{element_id}').textContent")


def test_writing_on_the_pad_with_a_pen(server, browser, tmp_path):
    ink = fixture_inks()[0]
    browser.get(server.url)
    wait_for(lambda: text_of(browser, "status") == "write below", what="the pad to connect")
    box = browser.execute_script("const r = document.getElementById('pad').getBoundingClientRect();"
                                 "return [r.left, r.top, r.width, r.height];")
    x0, y0, x1, y1 = ink.bounds()
    scale = min((box[2] - 60) / (x1 - x0), (box[3] - 60) / (y1 - y0))
    actions = ActionBuilder(browser, mouse=PointerInput(interaction.POINTER_PEN, "pen"), duration=0)
    pen = actions.pointer_action
    for stroke in ink.strokes:
        points = [(round(box[0] + 30 + (x - x0) * scale), round(box[1] + 30 + (y - y0) * scale)) for x, y in stroke[:, :2]]
        pen.move_to_location(*points[0])
        pen.pointer_down()
        for x, y in points[1:]:
            pen.move_to_location(x, y)
        pen.pointer_up()
    actions.perform()
    text = wait_for(lambda: text_of(browser, "status").startswith("read in") and text_of(browser, "text"),
                    what="the reading")
    time.sleep(1.0)  # the last update, after the last pen-up
    text = text_of(browser, "text")
    assert error_rates([(ink.label, text)])[0] < 0.15, (ink.label, text)
    alternatives = browser.execute_script("return [...document.querySelectorAll('#alternatives button')]"
                                          ".map(b => b.textContent)")
    assert alternatives and all(a != text for a in alternatives)
    shot = Path(os.environ.get("SERVE_SCREENSHOT") or tmp_path / "pad.png")
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    browser.find_element("id", "clear").click()
    wait_for(lambda: text_of(browser, "text") == "", what="the pad to clear")


POLYFILL_RUN = """
const [url, strokes, done] = arguments;
(async () => {
  const script = document.createElement("script");
  script.src = url + "handwriting-recognition.js";
  script.dataset.override = "";
  await new Promise((resolve, reject) => { script.onload = resolve; script.onerror = reject;
                                            document.head.append(script); });
  const japanese = await navigator.queryHandwritingRecognizer({languages: ["ja"]});
  const query = await navigator.queryHandwritingRecognizer({languages: ["en-GB"]});
  const recognizer = await navigator.createHandwritingRecognizer({languages: ["en"]});
  const drawing = recognizer.startDrawing({alternatives: 3, recognitionType: "text"});
  const spare = new HandwritingStroke();
  strokes.forEach((points, n) => {
    const stroke = new HandwritingStroke();
    points.forEach(([x, y, t]) => stroke.addPoint({x, y, t}));
    drawing.addStroke(stroke);
    if (n === 0) drawing.addStroke(new HandwritingStroke());  // no points: not sent, indices kept
  });
  drawing.addStroke(spare); spare.addPoint({x: 0, y: 0, t: 0}); drawing.removeStroke(spare);
  const predictions = await drawing.getPrediction();
  let refused = "";
  const perCharacter = recognizer.startDrawing({recognitionType: "per-character"});
  perCharacter.addStroke(drawing.getStrokes()[0]);
  try { await perCharacter.getPrediction(); }
  catch (error) { refused = error.message; }
  recognizer.finish();
  let finished = "";
  try { await drawing.getPrediction(); } catch (error) { finished = error.name; }
  return {japanese, query, predictions, strokes: drawing.getStrokes().length, refused, finished};
})().then(done, (error) => done({error: String(error)}));
"""


def test_the_polyfill_through_the_wicg_api(server, browser):
    ink = fixture_inks()[1]
    browser.get(server.url + "v1/health")  # a page of the service without the polyfill
    strokes = [s[:, :3].tolist() for s in ink.strokes]
    result = browser.execute_async_script(POLYFILL_RUN, server.url, strokes)
    assert "error" not in result, result
    assert result["japanese"] is None
    assert result["query"]["textSegmentation"]
    assert result["query"]["hints"]["recognitionType"] == ["text", "word", "character", "digits"]  # the service's modes
    predictions = result["predictions"]
    expected = Recognizer().recognize(ink)
    assert [p["text"] for p in predictions] == [a.text for a in expected.alternatives[:3]]
    segments = predictions[0]["segmentationResult"]
    assert "".join(s["grapheme"] for s in segments) == expected.text.replace(" ", "")
    sizes = [len(s) for s in ink.strokes]
    for segment in segments:
        assert expected.text[segment["beginIndex"]:segment["endIndex"]] == segment["grapheme"]
        for part in segment["drawingSegments"]:
            stroke = part["strokeIndex"] - (part["strokeIndex"] > 0)  # the empty stroke sits at index 1
            assert part["strokeIndex"] != 1 and 0 <= part["beginPointIndex"] < part["endPointIndex"] <= sizes[stroke]
    assert result["strokes"] == len(ink.strokes) + 1
    assert "supported: text" in result["refused"] and result["finished"] == "InvalidStateError"
    assert json.dumps(result)  # plain data all the way
