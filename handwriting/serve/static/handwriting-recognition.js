/* The WICG Handwriting Recognition API (https://wicg.github.io/handwriting-recognition/)
 * over a local `handwriting serve`, for browsers that lack it (all but ChromeOS's).
 *
 *   <script src="http://127.0.0.1:8765/handwriting-recognition.js"></script>
 *   const recognizer = await navigator.createHandwritingRecognizer({languages: ["en"]});
 *   const drawing = recognizer.startDrawing({alternatives: 3, textContext: "Dear "});
 *   const stroke = new HandwritingStroke(); stroke.addPoint({x, y, t}); drawing.addStroke(stroke);
 *   const [best, ...others] = await drawing.getPrediction();
 *   best.text, best.segmentationResult  // [{grapheme, beginIndex, endIndex, drawingSegments}]
 *
 * The service is the origin the script was loaded from. Script attributes: data-token
 * (sent as a bearer token), data-override (replace a native implementation too). The same
 * settings live in `window.handwritingService` ({endpoint, token}), read on every call.
 * Segmentation comes with the best prediction; endPointIndex is exclusive.
 */
(function () {
  "use strict";
  const script = document.currentScript;
  const service = window.handwritingService = {
    endpoint: script && script.src ? new URL(".", script.src).href : location.origin + "/",
    token: (script && script.dataset.token) || "",
  };
  const override = Boolean(script && script.hasAttribute("data-override"));
  if ("createHandwritingRecognizer" in navigator && !override) return;

  async function call(path, body) {
    const headers = {"Content-Type": "application/json"};
    if (service.token) headers.Authorization = "Bearer " + service.token;
    const response = await fetch(new URL(path, service.endpoint), body === undefined
      ? {headers} : {method: "POST", headers, body: JSON.stringify(body)});
    const answer = await response.json().catch(() => ({error: "HTTP " + response.status}));
    if (!response.ok) throw new DOMException(answer.error || "HTTP " + response.status, "OperationError");
    return answer;
  }

  let model = null;
  const describe = () => (model = model || call("v1/models").then((a) => a.models[0], (error) => {
    model = null;  // asked again next time: the service may be starting
    throw error;
  }));

  function checkConstraint(constraint) {
    if (!constraint || !Array.isArray(constraint.languages)) {
      throw new TypeError("the constraint needs a languages list");
    }
  }

  async function supports(constraint) {
    checkConstraint(constraint);
    const known = (await describe()).languages;
    return constraint.languages.length > 0 &&
      constraint.languages.every((l) => known.includes(String(l).split(/[-_]/)[0].toLowerCase()));
  }

  class HandwritingStroke {
    #points = [];
    addPoint(point) {
      if (!point || !Number.isFinite(point.x) || !Number.isFinite(point.y)) {
        throw new TypeError("a point needs finite x and y");
      }
      this.#points.push(Number.isFinite(point.t) ? {x: point.x, y: point.y, t: point.t} : {x: point.x, y: point.y});
    }
    getPoints() { return this.#points.map((p) => ({...p})); }
    clear() { this.#points = []; }
  }

  function segments(result, strokeIndex) {
    return result.characters.filter((c) => c.text.trim() && c.segments.length).map((c) => ({
      grapheme: c.text,
      beginIndex: c.index,
      endIndex: c.index + 1,
      drawingSegments: c.segments.map((s) => ({
        strokeIndex: strokeIndex[s.stroke], beginPointIndex: s.begin, endPointIndex: s.end})),
    }));
  }

  class HandwritingDrawing {
    #strokes = [];
    #recognizer;
    #hints;
    constructor(recognizer, hints) { this.#recognizer = recognizer; this.#hints = hints; }
    addStroke(stroke) {
      if (!(stroke instanceof HandwritingStroke)) throw new TypeError("not a HandwritingStroke");
      this.#strokes.push(stroke);
    }
    removeStroke(stroke) {
      const at = this.#strokes.indexOf(stroke);
      if (at >= 0) this.#strokes.splice(at, 1);
    }
    getStrokes() { return this.#strokes.slice(); }
    clear() { this.#strokes = []; }
    async getPrediction() {
      if (this.#recognizer.finished) throw new DOMException("the recognizer has finished", "InvalidStateError");
      const strokeIndex = [];  // service stroke -> drawing stroke (strokes without points are not sent)
      const strokes = [];
      this.#strokes.forEach((stroke, index) => {
        const points = stroke.getPoints();
        if (!points.length) return;
        strokeIndex.push(index);
        strokes.push(points.map((p) => (p.t === undefined ? [p.x, p.y] : [p.x, p.y, p.t])));
      });
      if (!strokes.length) return [];
      const hints = this.#hints;
      const count = Math.min(10, Math.max(1, hints.alternatives === undefined ? 3 : Number(hints.alternatives) || 1));
      const result = await call("v1/recognize", {
        ink: {strokes}, mode: hints.recognitionType || "text", pre_context: hints.textContext || "",
        alternatives: count,
      });
      const predictions = result.alternatives.map((a) => ({text: a.text}));
      if (!predictions.length) predictions.push({text: result.text});
      predictions[0].segmentationResult = segments(result, strokeIndex);
      return predictions;
    }
  }

  class HandwritingRecognizer {
    finished = false;
    startDrawing(hints = {}) {
      if (this.finished) throw new DOMException("the recognizer has finished", "InvalidStateError");
      return new HandwritingDrawing(this, {...hints});
    }
    finish() { this.finished = true; }
  }

  async function queryHandwritingRecognizer(constraint) {
    if (!(await supports(constraint))) return null;
    return {
      textAlternatives: true,
      textSegmentation: true,
      hints: {recognitionType: (await describe()).modes, inputType: ["mouse", "stylus", "touch"],
              textContext: true, alternatives: true},
    };
  }

  async function createHandwritingRecognizer(constraint) {
    if (!(await supports(constraint))) {
      throw new DOMException("languages not supported: " + constraint.languages.join(", "), "NotSupportedError");
    }
    return new HandwritingRecognizer();
  }

  const define = (target, name, value) =>
    Object.defineProperty(target, name, {value, configurable: true, writable: true});
  define(window, "HandwritingStroke", HandwritingStroke);
  define(navigator, "queryHandwritingRecognizer", queryHandwritingRecognizer);
  define(navigator, "createHandwritingRecognizer", createHandwritingRecognizer);
})();
