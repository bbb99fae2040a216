// A signature pad (signature_pad, vendored) sized for the device's pixel ratio, with a baseline
// and a clear hint, that reports each finished stroke so the signature is saved at once.
import SignaturePad from "../../vendor/signature_pad-5.1.4.min.js";
import { h } from "./dom.js";

/**
 * Create a pad. `onChange(pad)` is called (debounced) after strokes end.
 * Returns {element, canvas, isEmpty(), clear(), destroy()}.
 */
export function signaturePad({ id, label, onChange, delay = 500 }) {
  const canvas = h("canvas.sig-canvas", { id, "aria-label": label });
  const element = h("div.sig-pad", canvas, h("div.sig-baseline", { "aria-hidden": "true" }), h("span.sig-hint", { "aria-hidden": "true" }, "请在此处签名"));
  const pad = new SignaturePad(canvas, {
    penColor: "#0d1b2a", minWidth: 1.2, maxWidth: 3.4, backgroundColor: "rgba(0,0,0,0)",
  });
  let timer = null;
  pad.addEventListener("beginStroke", () => element.classList.add("signing"));
  pad.addEventListener("endStroke", () => {
    clearTimeout(timer);
    // Cleared once fired: flush() then saves only a stroke not saved yet (a saved signature is
    // not stored, and sent, again).
    timer = setTimeout(() => { timer = null; if (onChange) onChange(api); }, delay);
  });

  // The size (CSS px) the strokes were drawn at: the pad's points are in CSS px, so on a new size
  // (rotation, window resize, pixel ratio) they are redrawn scaled to it, never clipped.
  let drawnAt = null;
  function resize() {
    const rect = canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const pixels = [Math.round(rect.width * ratio), Math.round(rect.height * ratio)];
    if (drawnAt && drawnAt.width === rect.width && drawnAt.height === rect.height
      && canvas.width === pixels[0] && canvas.height === pixels[1]) return;
    const data = pad.toData();
    const from = drawnAt;
    drawnAt = { width: rect.width, height: rect.height };
    canvas.width = pixels[0];
    canvas.height = pixels[1];
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    if (data.length) pad.fromData(from ? scaleStrokes(data, from, drawnAt) : data);
  }
  const observer = new ResizeObserver(() => resize());
  observer.observe(canvas);

  const api = {
    element,
    canvas,
    isEmpty: () => pad.isEmpty(),
    clear: () => { pad.clear(); element.classList.remove("signing"); },
    /** Flush a pending change now (e.g. before leaving the screen). */
    flush: () => { if (timer) { clearTimeout(timer); timer = null; if (onChange) return onChange(api); } return null; },
    destroy: () => { clearTimeout(timer); observer.disconnect(); pad.off(); },
  };
  return api;
}

/**
 * The strokes fitted to a new pad size: one scale for both axes (a signature keeps its shape),
 * the ink centred in the new pad, pen widths scaled alike.
 * @param {object[]} data signature_pad's point groups (points in CSS px).
 * @param {{width: number, height: number}} from the size they were drawn at.
 * @param {{width: number, height: number}} to the new size.
 * @returns {object[]} new point groups.
 */
export function scaleStrokes(data, from, to) {
  const k = Math.min(to.width / from.width, to.height / from.height);
  const dx = (to.width - from.width * k) / 2;
  const dy = (to.height - from.height * k) / 2;
  return data.map((group) => ({
    ...group,
    minWidth: group.minWidth * k,
    maxWidth: group.maxWidth * k,
    dotSize: group.dotSize * k,
    points: group.points.map((p) => ({ ...p, x: p.x * k + dx, y: p.y * k + dy })),
  }));
}
