// Tiny DOM helpers: build elements without innerHTML for user data (no injection, no framework).

/**
 * h("button.btn.primary", {type: "button", onclick}, "提交", iconNode)
 * The tag may carry classes and an id in any order (`div.card.x#main`). Attributes: `class`,
 * `dataset` (object), `style` (string), `on*` functions (event listeners), `html` (trusted markup
 * only: our own icons), booleans set/omit the attribute, null/undefined/false are skipped.
 * Children: nodes, strings, numbers, arrays (flattened), null/false (skipped).
 */
export function h(spec, attrs, ...children) {
  if (attrs && (attrs instanceof Node || typeof attrs !== "object" || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  const tag = /^[a-zA-Z0-9-]*/.exec(spec)[0];
  const el = document.createElement(tag || "div");
  const classes = [];
  for (const [, kind, name] of spec.slice(tag.length).matchAll(/([.#])([^.#]+)/g)) {
    if (kind === "#") el.id = name;
    else classes.push(name);
  }
  if (classes.length) el.className = classes.join(" ");
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = [el.className, value].filter(Boolean).join(" ");
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key === "html") el.innerHTML = value;
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key === "value" && "value" in el) el.value = value;
      else if (value === true) el.setAttribute(key, "");
      else el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings, arrays; null/false skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of an element. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** querySelector shorthand. */
export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
