// Pieces every desk screen uses: a page head with its actions, the loading and failure states,
// labelled form fields, tabs and a confirmation dialog.
import { h } from "../../../ui/dom.js";
import { icon } from "../../../ui/icons.js";
import { confirm } from "../../../ui/dialog.js";
import { errorText } from "./http.js";

export { confirm as confirmDialog };

/** The head of a desk page: a title, an optional line under it, actions on the right. */
export function pageHead(title, ...actions) {
  let sub = null;
  if (actions.length && typeof actions[0] === "string") sub = actions.shift();
  return h("div.d-head",
    h("div.d-head-text", h("h1", title), sub ? h("p.d-sub", sub) : null),
    actions.length ? h("div.d-actions", actions) : null);
}

/** A panel saying what failed, in words, with 重试 when `retry` is given. */
export function failure(error, retry = null) {
  return h("div.panel.empty.d-failure", { role: "alert" },
    icon("warning", { size: 32 }),
    h("p", errorText(error)),
    retry ? h("button.btn.primary", { type: "button", onclick: retry }, icon("refresh"), "重试") : null);
}

/** A quiet placeholder while a page's data loads. */
export function loading(text = "正在加载…") {
  return h("div.d-loading", { role: "status" }, text);
}

/** A labelled form control; `hint` is shown under it. The label is bound to the control's id. */
export function field(label, control, hint = null) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h("div.d-field",
    h("label", { for: control.id }, label),
    control,
    hint ? h("p.d-hint", hint) : null);
}

/** An inline message under a form: error (role=alert) or success. */
export function formMessage(el, text, kind = "error") {
  el.className = `d-msg ${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.textContent = text || "";
  el.hidden = !text;
}

/** Tabs as links, so that each tab is a URL: [{id, label, href, count}], `current` id. */
export function tabs(items, current) {
  return h("nav.d-tabs", { "aria-label": "分页" }, items.map((t) =>
    h("a.d-tab", { href: t.href, "aria-current": t.id === current ? "page" : null, dataset: { tab: t.id } },
      t.label, Number.isFinite(t.count) ? h("span.d-count.num", String(t.count)) : null)));
}

/** A small label/value fact for detail panels. */
export function fact(label, value) {
  return h("div.d-fact", h("span.d-fact-label", label), h("span.d-fact-value", value === null || value === undefined || value === "" ? "—" : value));
}
