// Modal dialogs on the native <dialog> element: confirmations that name what would be lost.
import { h } from "./dom.js";
import { icon } from "./icons.js";

/**
 * Ask the user to choose. Resolves with the `value` of the chosen action, or null when dismissed
 * (Esc, 取消). Actions: [{label, value, kind: "primary" | "danger" | "secondary", id}].
 */
export function choose({ title, body = null, actions, tone = "neutral", id = null }) {
  return new Promise((resolve) => {
    const dialog = h("dialog.dialog", { id, "aria-labelledby": "dialog-title", class: `tone-${tone}` });
    const close = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    const buttons = actions.map((action) =>
      h(`button.btn.${action.kind || "secondary"}`, {
        type: "button", id: action.id || null, onclick: () => close(action.value),
      }, action.label));
    dialog.append(
      h("div.dialog-head",
        tone === "danger" ? icon("warning", { cls: "dialog-icon danger" }) :
        tone === "warning" ? icon("warning", { cls: "dialog-icon warning" }) : null,
        h("h2#dialog-title", title)),
      body ? h("div.dialog-body", typeof body === "string" ? h("p", body) : body) : null,
      h("div.dialog-actions", buttons),
    );
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(null); });
    document.body.append(dialog);
    dialog.showModal();
    // Focus the safe choice first: a stray tap on Enter must never destroy anything.
    const safe = buttons[actions.findIndex((a) => a.kind !== "danger" && a.value !== true)] || buttons[0];
    safe.focus();
  });
}

/** Yes/no confirmation; resolves true only on the confirm button. */
export async function confirm({ title, body = null, confirmText = "确定", cancelText = "取消", danger = false, id = null }) {
  const value = await choose({
    title, body, id, tone: danger ? "danger" : "neutral",
    actions: [
      { label: cancelText, value: false, kind: "secondary", id: id ? `${id}-cancel` : null },
      { label: confirmText, value: true, kind: danger ? "danger" : "primary", id: id ? `${id}-confirm` : null },
    ],
  });
  return value === true;
}

/** A message with one button. */
export async function alert({ title, body = null, okText = "知道了", tone = "neutral" }) {
  await choose({ title, body, tone, actions: [{ label: okText, value: true, kind: "primary" }] });
}
