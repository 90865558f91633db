/* The web pad: write with a pen, a finger or the mouse; the reading and its alternatives
 * update as you write. It is a client of the Handwriting Recognition API, served here by
 * the polyfill loaded before it. Open it as http://HOST:PORT/#token=T when the service
 * wants a token. */
(async function () {
  "use strict";
  const canvas = document.getElementById("pad");
  const context = canvas.getContext("2d");
  const statusLine = document.getElementById("status");
  const textBox = document.getElementById("text");
  const alternativesBox = document.getElementById("alternatives");
  window.handwritingService.token = new URLSearchParams(location.hash.slice(1)).get("token") || "";

  let drawing;
  try {
    const recognizer = await navigator.createHandwritingRecognizer({languages: ["en"]});
    drawing = recognizer.startDrawing({alternatives: 5});
  } catch (error) {
    statusLine.textContent = "service: " + error.message;
    return;
  }
  statusLine.textContent = "write below";

  const strokes = [];  // {stroke: HandwritingStroke, path: [{x, y}]}
  let current = null;
  let start = null;
  let generation = 0;  // bumped by clear/undo: answers about older ink are dropped
  let busy = false;
  let dirty = false;

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = canvas.clientWidth * ratio;
    canvas.height = canvas.clientHeight * ratio;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    redraw();
  }

  function redraw() {
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.lineWidth = 2.5;
    context.lineCap = context.lineJoin = "round";
    context.strokeStyle = "#1b2a4a";
    for (const {path} of strokes) {
      context.beginPath();
      path.forEach((p, i) => (i ? context.lineTo(p.x, p.y) : context.moveTo(p.x, p.y)));
      if (path.length === 1) context.lineTo(path[0].x + 0.1, path[0].y);
      context.stroke();
    }
  }

  function add(event) {
    const point = {x: event.offsetX, y: event.offsetY, t: event.timeStamp - start};
    current.stroke.addPoint(point);
    const last = current.path[current.path.length - 1] || point;
    current.path.push(point);
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(point.x + (last === point ? 0.1 : 0), point.y);
    context.stroke();
  }

  function show(predictions, ms) {
    const [best, ...others] = predictions;
    textBox.textContent = best ? best.text : "";
    alternativesBox.replaceChildren(...others.map(({text}) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text;
      button.addEventListener("click", () => { textBox.textContent = text; });
      return button;
    }));
    statusLine.textContent = best ? `read in ${Math.round(ms)} ms` : "write below";
  }

  async function update() {  // one request at a time; when it returns, the latest ink is read
    dirty = true;
    if (busy) return;
    busy = true;
    while (dirty) {
      dirty = false;
      const asked = generation;
      const began = performance.now();
      try {
        const predictions = await drawing.getPrediction();
        if (asked === generation) show(predictions, performance.now() - began);
      } catch (error) {
        statusLine.textContent = error.message;
      }
    }
    busy = false;
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    try { canvas.setPointerCapture(event.pointerId); } catch (error) { /* a synthetic pointer */ }
    if (start === null) start = event.timeStamp;
    current = {stroke: new HandwritingStroke(), path: []};
    strokes.push(current);
    drawing.addStroke(current.stroke);
    add(event);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    (events.length ? events : [event]).forEach(add);
    update();
  });
  const end = () => {
    if (!current) return;
    current = null;
    update();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  document.getElementById("clear").addEventListener("click", () => {
    generation += 1;
    strokes.length = 0;
    drawing.clear();
    redraw();
    show([], 0);
  });
  document.getElementById("undo").addEventListener("click", () => {
    const last = strokes.pop();
    if (!last) return;
    generation += 1;
    drawing.removeStroke(last.stroke);
    redraw();
    if (strokes.length) update(); else show([], 0);
  });
  window.addEventListener("resize", resize);
  resize();
})();
