// What the desk's review screens (待办, 逾期整改, 整改通知书) share: photos that open at full size,
// the evidence of a task (what was found, the report, the history), dates and status pills.
import { h, replace } from "../../../ui/dom.js";
import { icon } from "../../../ui/icons.js";
import { imageUrl, openAuthed } from "../../../ui/authed.js";
import { TYPE_LABELS } from "../../../ui/format.js";

/** "2026年11月23日" from an ISO day or time. */
export function dayText(value) {
  if (!value) return "—";
  const day = String(value).slice(0, 10).split("-");
  return `${day[0]}年${Number(day[1])}月${Number(day[2])}日`;
}

/** "11月23日 14:05" from an ISO time, in the browser's zone. */
export function momentText(value) {
  if (!value) return "—";
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getMonth() + 1}月${d.getDate()}日 ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Today in China as YYYY-MM-DD (deadlines and decisions are China's days). */
export function chinaToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}

export function pill(text, kind = "neutral") {
  return h(`span.d-pill.${kind}`, text);
}

const TASK_KIND = { open: "warn", answered: "neutral", accepted: "ok", cancelled: "neutral" };
const NOTICE_KIND = { draft: "neutral", issued: "warn", closed: "ok" };

export function taskPill(task) {
  return pill(task.status_label || task.status, TASK_KIND[task.status] || "neutral");
}

export function noticePill(notice) {
  return pill(notice.status_label || notice.status, NOTICE_KIND[notice.status] || "neutral");
}

export function institutionText(institution) {
  if (!institution) return "—";
  return `${institution.name}（${TYPE_LABELS[institution.type] || institution.type}）`;
}

/** A full-size view of a photo over the page; Esc, the close button or a click outside closes it. */
export function showPhoto(photo, label) {
  const img = h("img.d-lightbox-img", { alt: label });
  const close = () => { overlay.remove(); document.removeEventListener("keydown", onKey, true); opener && opener.focus(); };
  const onKey = (event) => { if (event.key === "Escape") { event.stopPropagation(); event.preventDefault(); close(); } };
  const opener = document.activeElement;
  const overlay = h("div.d-lightbox", { role: "dialog", "aria-modal": "true", "aria-label": label, onclick: (e) => { if (e.target === overlay) close(); } },
    h("div.d-lightbox-bar",
      h("span", label),
      h("button.btn.secondary.small", { type: "button", onclick: () => openAuthed(photo.url, "image") }, "新窗口打开"),
      h("button.btn.secondary.small.d-lightbox-close", { type: "button", onclick: close }, icon("close", { size: 18 }), "关闭")),
    img);
  document.addEventListener("keydown", onKey, true);
  document.body.append(overlay);
  overlay.querySelector(".d-lightbox-close").focus();
  imageUrl(photo.url).then((src) => { img.src = src; }).catch(() => replace(img.parentNode, h("p.d-msg.error", "照片无法加载")));
}

/** Thumbnails that open at full size. */
export function photoRow(photos, label) {
  if (!photos || !photos.length) return h("p.d-hint", "无照片");
  return h("div.d-photos", photos.map((photo, i) => {
    const name = `${label} ${i + 1}`;
    const img = h("img", { alt: name, loading: "lazy" });
    const button = h("button.d-thumb", { type: "button", "aria-label": `查看${name}（原图）`, dataset: { photo: photo.id }, onclick: () => showPhoto(photo, name) }, img);
    imageUrl(photo.thumbnail_url || photo.url).then((src) => { img.src = src; })
      .catch(() => button.replaceChildren(icon("image"), h("span", "无法加载")));
    return button;
  }));
}

/** What the inspectors found, in words. */
export function foundText(found) {
  if (!found) return "不符合";
  const parts = [];
  if (found.note) parts.push(found.note.replace(/[。；;.\s]+$/u, ""));
  if (found.occurrences !== null && found.occurrences !== undefined) parts.push(`发现 ${found.occurrences} 处`);
  if (found.sampled !== null && found.sampled !== undefined) parts.push(`抽查 ${found.sampled} 份，不符合 ${found.failed ?? 0} 份`);
  return parts.join("；") || "不符合";
}

/** The task's history (answers, reviews, comments, objections), newest last. */
export function historyList(events) {
  if (!events || !events.length) return h("p.d-hint", "暂无记录");
  return h("ol.d-history", events.map((e) => h("li", { dataset: { kind: e.kind } },
    h("div.d-history-head", h("strong", e.label), h("span.d-hint", `${e.actor_name || "系统"} · ${momentText(e.at)}`)),
    e.text ? h("p.d-history-text", e.text) : null,
    e.photos && e.photos.length ? photoRow(e.photos, `${e.label}照片`) : null)));
}

/** Everything a reviewer weighs for a task: the finding with its photos, the report with its
 *  photos, the objection, the history, and the notice's document. */
export function taskEvidence(task, { noticeHref, objectionFirst = false } = {}) {
  const evidence = h("div.d-evidence", { dataset: { task: task.id } },
    h("section.d-card.d-finding",
      h("div.d-card-head", h("h2", `第 ${task.seq} 项 · ${task.item_text}`), taskPill(task)),
      h("dl.d-kv",
        h("div", h("dt", "机构"), h("dd", institutionText(task.institution))),
        h("div", h("dt", "通知书"), h("dd", noticeHref ? h("a", { href: noticeHref }, task.notice_number || "草稿") : (task.notice_number || "草稿"))),
        h("div", h("dt", "检查发现"), h("dd", foundText(task.found))),
        h("div", h("dt", "判定标准"), h("dd", task.fail_when || "—")),
        h("div", h("dt", "依据"), h("dd", task.basis || "—")),
        h("div", h("dt", "整改要求"), h("dd", task.required_action || "—")),
        h("div", h("dt", "整改期限"), h("dd", `${dayText(task.deadline)}${task.overdue ? `（已逾期 ${task.days_overdue} 天）` : ""}`))),
      h("h3", "检查时的佐证照片"),
      photoRow(task.found && task.found.photos, "检查照片")),
    h("section.d-card.d-report",
      h("h2", "整改报告"),
      task.answer ? h("p.d-report-text", task.answer) : h("p.d-hint", "尚未提交整改报告"),
      task.answered_at ? h("p.d-hint", `提交于 ${momentText(task.answered_at)}`) : null,
      task.answer_photos && task.answer_photos.length ? photoRow(task.answer_photos, "整改照片") : null),
    task.objection ? h("section.d-card.d-objection",
      h("div.d-card-head", h("h2", "申诉"), pill(task.objection.status_label, task.objection.status === "pending" ? "warn" : "neutral")),
      h("p.d-report-text", task.objection.reason),
      h("p.d-hint", `提出于 ${momentText(task.objection.filed_at)}`),
      task.objection.decision_comment ? h("p", `处理意见：${task.objection.decision_comment}`) : null) : null,
    h("section.d-card.d-task-history", h("h2", "办理记录"), historyList(task.history)));
  const objection = evidence.querySelector(".d-objection");
  if (objectionFirst && objection) evidence.prepend(objection); // what is being decided, first
  return evidence;
}

/** Open the notice's printable document (it needs the token) in a new tab. */
export function documentButton(notice, text = "查看通知书") {
  return h("button.btn.secondary.small", { type: "button", onclick: () => openAuthed(notice.document_url || `/api/rectification/notices/${notice.id || notice.notice_id}/document`) }, icon("file", { size: 18 }), text);
}
