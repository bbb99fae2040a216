// Short, polite messages at the bottom of the screen (announced to screen readers).
import { h } from "./dom.js";
import { icon } from "./icons.js";

const ICONS = { success: "check", error: "warning", info: "info", warning: "warning" };

/** Show a toast: toast("已保存", {kind: "success"}). */
export function toast(message, { kind = "info", timeout = 3500 } = {}) {
  const area = document.getElementById("toasts");
  if (!area) return;
  const el = h(`div.toast.toast-${kind}`, { role: kind === "error" ? "alert" : "status" },
    icon(ICONS[kind] || "info"), h("span", message));
  area.append(el);
  while (area.children.length > 3) area.firstElementChild.remove();
  setTimeout(() => {
    el.classList.add("leaving");
    setTimeout(() => el.remove(), 250);
  }, timeout);
}
