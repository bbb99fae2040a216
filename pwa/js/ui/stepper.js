// A number stepper: [−] value [+], big enough for a thumb; the value can also be typed.
import { h } from "./dom.js";
import { icon } from "./icons.js";

/**
 * numberStepper({id, label, value, min, max, onChange}) → {element, set(value)}.
 * onChange(value) gets an integer within [min, max], or null while the field is empty.
 */
export function numberStepper({ id, label, value = null, min = 0, max = 9999, onChange }) {
  const input = h("input.stepper-input", {
    id, type: "text", inputmode: "numeric", pattern: "[0-9]*", autocomplete: "off",
    "aria-label": label, value: value === null || value === undefined ? "" : String(value),
  });
  const clamp = (n) => Math.min(max, Math.max(min, n));
  const current = () => {
    const n = parseInt(input.value, 10);
    return Number.isNaN(n) ? null : n;
  };
  const set = (n, notify = true) => {
    input.value = n === null ? "" : String(n);
    dec.disabled = n === null || n <= min;
    inc.disabled = n !== null && n >= max;
    if (notify && onChange) onChange(n);
  };
  const dec = h("button.stepper-btn", {
    type: "button", "aria-label": `${label}减一`,
    onclick: () => set(clamp((current() ?? min + 1) - 1)),
  }, icon("minus"));
  const inc = h("button.stepper-btn", {
    type: "button", "aria-label": `${label}加一`,
    onclick: () => set(clamp((current() ?? min - 1) + 1)),
  }, icon("plus"));
  input.addEventListener("input", () => {
    const digits = input.value.replace(/[^0-9]/g, "");
    if (digits !== input.value) input.value = digits;
    const n = current();
    set(n === null ? null : clamp(n), true);
  });
  input.addEventListener("focus", () => input.select());
  const element = h("div.stepper", dec, input, inc);
  set(value === undefined ? null : value, false);
  return { element, input, set: (n) => set(n, false) };
}
