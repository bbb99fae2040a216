// What the planning screens (检查计划, 双随机抽取) share: labels, the options of GET
// /api/planning/options (regions, inspectors, checklists; kept for the session), small controls.
import { h } from "../../../ui/dom.js";
import { get } from "../common/http.js";
import { AGREEMENT_LABELS, TYPE_LABELS } from "../../../ui/format.js";

export { AGREEMENT_LABELS, TYPE_LABELS };
export const KIND_LABELS = { routine: "日常检查", special: "专项检查", flight: "飞行检查", reinspection: "复查", random: "双随机抽查" };
export const STATUS_LABELS = { planned: "待检查", in_progress: "检查中", done: "已完成", cancelled: "已取消" };
const STATUS_TONES = { planned: "neutral", in_progress: "warn", done: "ok", cancelled: "bad" };

let optionsCache = null;

/** {regions, inspectors, checklists} for the signed-in planner (fetched once per page load). */
export async function planningOptions(force = false) {
  if (!optionsCache || force) optionsCache = await get("/api/planning/options");
  return optionsCache;
}

/** A status pill: a word with a colour (never the colour alone). */
export function pill(text, tone = "neutral") {
  return h(`span.d-pill.${tone}`, text);
}

export function statusPill(status) {
  return pill(STATUS_LABELS[status] || status, STATUS_TONES[status] || "neutral");
}

/** Today as YYYY-MM-DD in the browser's (the bureau's) time zone. */
export function isoDate(d = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "2026-05-01 14:03" in the browser's (the bureau's) time zone, or "—". */
export function dateTime(value) {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${isoDate(d)} ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

export function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00`);
  d.setDate(d.getDate() + days);
  return isoDate(d);
}

/** "05-01 至 05-07" or the full dates when the years differ from this year. */
export function windowText(start, end) {
  const year = String(new Date().getFullYear());
  const short = (iso) => (iso && iso.startsWith(year) ? iso.slice(5) : iso);
  return `${short(start)} 至 ${short(end)}`;
}

/** A <select> of regions, counties indented under their city. */
export function regionSelect(regions, { name = "region", value = "", all = null, id = null } = {}) {
  const codes = new Set(regions.map((r) => r.code));
  return h("select", { name, id },
    all !== null ? h("option", { value: "" }, all) : null,
    regions.map((r) => h("option", { value: r.code, selected: r.code === value },
      `${r.parent_code && codes.has(r.parent_code) ? "　" : ""}${r.name}（${r.code}）`)));
}

/** A <select> from {value: label}, with an optional first "all" choice. */
export function choiceSelect(labels, { name, value = "", all = "全部", id = null } = {}) {
  return h("select", { name, id },
    all !== null ? h("option", { value: "" }, all) : null,
    Object.entries(labels).map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

/** A row of checkboxes from {value: label}; `checked` lists the values ticked. */
export function checkGroup(labels, { name, checked = [], legend }) {
  return h("fieldset.d-checks", h("legend", legend),
    Object.entries(labels).map(([v, label]) => h("label.d-check",
      h("input", { type: "checkbox", name, value: v, checked: checked.includes(v) }), label)));
}

/** The inspectors as `姓名（地区）`, by username. */
export function inspectorLabel(inspector) {
  return `${inspector.display_name || inspector.username}（${inspector.region_name}）`;
}

/** The picks of a draw or a bulk plan as a dense table; `unassigned` rows follow with their reason. */
export function picksTable(answer, dataTable, { id = null } = {}) {
  const rows = [
    ...answer.picks.map((p, i) => ({ ...p, n: i + 1, key: p.institution_id })),
    ...answer.unassigned.map((u, i) => ({ ...u, n: answer.picks.length + i + 1, key: u.institution_id, unassigned: true })),
  ];
  return dataTable({
    id,
    rows,
    rowKey: (r) => r.key,
    empty: "没有抽中的机构",
    columns: [
      { key: "n", label: "序号", num: true, width: "4em" },
      { key: "institution_code", label: "机构编码", width: "10em" },
      { key: "institution_name", label: "机构名称" },
      { key: "institution_type", label: "类型", cls: "d-nowrap", render: (r) => (r.unassigned ? "—" : TYPE_LABELS[r.institution_type] || r.institution_type) },
      { key: "region_name", label: "地区", cls: "d-nowrap" },
      { key: "checklist", label: "检查表", cls: "d-nowrap", render: (r) => (r.unassigned ? "—" : `${r.checklist_id} v${r.checklist_version}`) },
      {
        key: "inspectors",
        label: "检查人员",
        render: (r) => (r.unassigned
          ? h("span.d-unassigned", pill("未分配", "bad"), " ", r.reason)
          : h("span", r.inspector_names.map((n, i) => h("span.d-person", { title: r.inspectors[i] }, n)))),
      },
    ],
  });
}
