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
    timer = setTimeout(() => onChange && onChange(api), delay);
  });

  function resize() {
    const rect = canvas.getBoundingClientRect();
    if (!rect.width) return;
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const data = pad.toData();
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    if (data.length) pad.fromData(data);
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
