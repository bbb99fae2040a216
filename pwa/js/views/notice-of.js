// The rectification notice (整改通知书) of the inspector's submitted inspections. The server makes
// it with the submission (or a draft, for a supervisor to confirm); the tablet learns of it from
// the notices of the institution (inspectors may read their region's), keeps what it learnt in
// IndexedDB (meta `inspection_notices`) so the number shows offline too, and asks again while the
// notice can still change (a draft being confirmed, a notice being closed).
import { getMeta, setMeta } from "../db.js";
import { api } from "../api.js";
import { isOnline } from "../connection.js";
import { h } from "../ui/dom.js";
import { icon } from "../ui/icons.js";

const KEY = "inspection_notices";
const RECHECK_MS = 60_000;
const FINAL = new Set(["closed"]);

/** What is known: {inspectionId: {notice: {id, number, status, status_label} | null, at}}. */
export async function knownNotices() {
  return (await getMeta(KEY)) || {};
}

/**
 * Ask the server about the notices of these submitted inspections, where it is worth asking
 * (online; never asked, or asked over a minute ago about a notice that may still change).
 * @param {{id: string, institution_id: string}[]} inspections server ids and institutions.
 * @returns {Promise<boolean>} whether anything known changed.
 */
export async function refreshNotices(inspections) {
  if (!isOnline() || !inspections.length) return false;
  const known = await knownNotices();
  const now = Date.now();
  const due = inspections.filter((i) => {
    const k = known[i.id];
    return !k || (now - k.at > RECHECK_MS && !(k.notice && FINAL.has(k.notice.status)));
  });
  if (!due.length) return false;
  const byInstitution = new Map();
  for (const i of due) {
    if (!byInstitution.has(i.institution_id)) byInstitution.set(i.institution_id, []);
    byInstitution.get(i.institution_id).push(i.id);
  }
  let changed = false;
  for (const [institutionId, ids] of byInstitution) {
    let items;
    try {
      const { body } = await api(`/api/rectification/notices?institution_id=${encodeURIComponent(institutionId)}&limit=200`);
      items = body.items || [];
    } catch (error) {
      continue; // offline or refused: what is known stays, the next visit asks again
    }
    for (const id of ids) {
      const n = items.find((item) => item.inspection_id === id);
      const notice = n ? { id: n.id, number: n.number, status: n.status, status_label: n.status_label } : null;
      if (JSON.stringify((known[id] || {}).notice) !== JSON.stringify(notice)) changed = true;
      known[id] = { notice, at: now };
    }
  }
  await setMeta(KEY, known);
  return changed;
}

/** The words of a notice's state: the server's label (one word per state everywhere). */
export function noticeState(notice) {
  if (notice.status === "draft") return notice.status_label || "待确认";
  return notice.status_label || notice.status;
}

/**
 * A line naming the notice: number and state, opening the notice. Null when none is known.
 * @param {{notice: object|null}|undefined} entry from knownNotices().
 */
export function noticeLine(entry, { link = true } = {}) {
  if (!entry) return null;
  const n = entry.notice;
  if (!n) return h("div.meta-line.notice-line", { dataset: { notice: "none" } }, icon("check", { size: 18 }), h("span", "未下发整改通知书"));
  const words = n.status === "draft"
    ? [h("b", "整改通知书待监管人员确认后下发")]
    : [h("span", "已下发整改通知书 "), h("b.num.notice-number", n.number || "（未编号）")];
  const body = [icon("file", { size: 18 }), h("span.notice-text", words, " ", h("span.chip.neutral.notice-state", noticeState(n)))];
  return link && n.status !== "draft"
    ? h("a.meta-line.notice-line", { href: `#/m/notice/${n.id}`, dataset: { notice: n.id } }, body, icon("chevronRight", { size: 18 }))
    : h("div.meta-line.notice-line", { dataset: { notice: n.id } }, body);
}
