// Shared by the manager's (机构医保负责人) screens: online-only reads of the rectification API,
// authenticated images and documents, deadline and status words.
import { api, ApiError, AuthRequired, NetworkError } from "../../api.js";
import { imageUrl, openAuthed } from "../../ui/authed.js";

export { imageUrl, openAuthed };
import { h } from "../../ui/dom.js";
import { icon } from "../../ui/icons.js";
import { dayLabel } from "../../ui/format.js";

export const BASE = "/api/rectification";

/** GET/POST the rectification API; returns the body. */
export async function call(path, options = {}) {
  const { body } = await api(`${BASE}${path}`, options);
  return body;
}

/** A message for the user from any failure (server detail in Chinese, offline, …). */
export function errorText(error) {
  if (error instanceof NetworkError) return "当前无法连接服务器（离线或网络不稳定）。已填写的内容仍保留在本页，联网后请重试。";
  if (error instanceof AuthRequired) return "登录已失效，请重新登录。";
  if (error instanceof ApiError) {
    if (error.status >= 500) return `服务器暂时无法处理（${error.status}），请稍后重试。`;
    if (error.status === 404) return `未找到该记录，或您无权查看（${error.message}）。`;
    return error.message;
  }
  return (error && error.message) || String(error);
}

export function isOffline(error) {
  return error instanceof NetworkError;
}

/** A full-page problem panel with a retry button. */
export function failurePanel(error, retry, session = null) {
  const home = session ? homeOf(session) : homeOf({ role: "manager" });
  return h("div.panel.empty.m-failure", { role: "alert" },
    icon(isOffline(error) ? "offline" : "warning", { size: 32 }),
    h("p", errorText(error)),
    h("div.m-row",
      retry ? h("button.btn.primary", { type: "button", onclick: retry }, icon("refresh"), "重试") : null,
      h("a.btn.secondary", { href: home.href }, `返回${home.text}`)));
}

export function chip(text, kind = "") {
  return h(`span.chip${kind ? `.${kind}` : ""}`, text);
}

const FINISHED = new Set(["accepted", "cancelled"]);

/** Status chip of a task: words plus colour. */
export function taskStatusChip(task) {
  const kind = { open: "warning", answered: "info", accepted: "ok", cancelled: "neutral" }[task.status] || "neutral";
  const text = task.status === "answered" ? `已提交 · ${task.status_label || "待验收"}` : (task.status_label || task.status);
  return h(`span.chip.m-status.m-status-${task.status}${kind ? `.${kind}` : ""}`, { dataset: { status: task.status } }, text);
}

/** Status chip of a notice. */
export function noticeStatusChip(notice) {
  const kind = notice.status === "closed" ? "ok" : notice.overdue_count ? "danger" : "warning";
  // The server's word for the state, as on the document and the verification page.
  const label = notice.status_label || notice.status;
  return h(`span.chip.m-status.${kind}`, { dataset: { status: notice.status } }, label);
}

/** 剩余 N 天 / 今天到期 / 已逾期 N 天 (colour and words). */
export function daysChip({ days_left: left, overdue, days_overdue: daysOver, status }) {
  if (status && FINISHED.has(status)) return null;
  if (overdue) return h("span.chip.danger.m-days", icon("warning", { size: 16 }), `已逾期 ${daysOver || -left || 0} 天`);
  if (left === null || left === undefined) return null;
  if (status === "answered") return h("span.chip.neutral.m-days", icon("clock", { size: 16 }), left >= 0 ? `剩余 ${left} 天` : "已按期提交");
  if (left < 0) return h("span.chip.danger.m-days", icon("warning", { size: 16 }), `已逾期 ${-left} 天`);
  if (left === 0) return h("span.chip.danger.m-days", icon("clock", { size: 16 }), "今天到期");
  return h(`span.chip.m-days.${left <= 3 ? "warning" : "ok"}`, icon("clock", { size: 16 }), `剩余 ${left} 天`);
}

/** "2026年11月23日" always with the year (documents, deadlines). */
export function fullDay(day) {
  if (!day) return "—";
  const [y, m, d] = String(day).slice(0, 10).split("-").map(Number);
  return `${y}年${m}月${d}日`;
}

export function shortDay(day) {
  return day ? dayLabel(day) : "—";
}

/** "11月23日 14:05" of a moment. */
export function momentText(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  const thisYear = date.getFullYear() === new Date().getFullYear();
  return `${thisYear ? "" : `${date.getFullYear()}年`}${date.getMonth() + 1}月${date.getDate()}日 ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A thumbnail that loads with the token and opens the full photo on tap. */
export function photoThumb(photo, { label = "照片" } = {}) {
  const img = h("img", { alt: label, loading: "lazy" });
  const button = h("button.m-thumb", { type: "button", "aria-label": `查看${label}`, dataset: { photo: photo.id } }, img);
  imageUrl(photo.thumbnail_url || photo.url)
    .then((src) => { img.src = src; })
    .catch(() => { button.classList.add("broken"); button.replaceChildren(icon("image"), h("span", "无法加载")); });
  button.addEventListener("click", () => openAuthed(photo.url, "image"));
  return button;
}

export function photoStrip(photos, label) {
  if (!photos || !photos.length) return null;
  return h("div.m-photos", photos.map((p, i) => photoThumb(p, { label: `${label} ${i + 1}` })));
}

/** A text kept in sessionStorage while typed (nothing typed is lost on a failed send). */
export function keep(key, field) {
  const full = `yibao-m:${key}`;
  try {
    const saved = sessionStorage.getItem(full);
    if (saved && !field.value) field.value = saved;
  } catch (error) { /* storage unavailable */ }
  field.addEventListener("input", () => {
    try { sessionStorage.setItem(full, field.value); } catch (error) { /* full */ }
  });
  return {
    clear() { try { sessionStorage.removeItem(full); } catch (error) { /* ignore */ } },
  };
}

export function storeJson(key, value) {
  try {
    if (value === null) sessionStorage.removeItem(`yibao-m:${key}`);
    else sessionStorage.setItem(`yibao-m:${key}`, JSON.stringify(value));
  } catch (error) { /* ignore */ }
}

export function loadJson(key, fallback) {
  try {
    const raw = sessionStorage.getItem(`yibao-m:${key}`);
    return raw ? JSON.parse(raw) : fallback;
  } catch (error) {
    return fallback;
  }
}

/** What the inspectors found, in words: 说明, 发现处数, 抽查数/不符合数. */
export function foundWords(found) {
  if (!found) return [];
  const parts = [];
  if (found.occurrences !== null && found.occurrences !== undefined) parts.push(`发现 ${found.occurrences} 处`);
  if (found.sampled !== null && found.sampled !== undefined) parts.push(`抽查 ${found.sampled} 份，不符合 ${found.failed ?? 0} 份`);
  return parts;
}

/** A label: value line of the facts list. */
export function fact(label, value, cls = "") {
  if (value === null || value === undefined || value === "") return null;
  return h(`div${cls ? `.${cls}` : ""}`, h("dt", label), h("dd", value));
}

/** Where "back" leads for this role: a manager's notices, an inspector's home, the desk. */
export function homeOf(session) {
  const role = session && session.role;
  if (role === "manager") return { href: "#/m", text: "整改通知书" };
  if (role === "inspector") return { href: "#/", text: "首页" };
  return { href: "#/desk", text: "工作台" };
}

export function backLink(href, text) {
  return h("a.back-link", { href }, icon("chevronLeft", { size: 20 }), text);
}
