// What the 系统管理 tabs share: labels of roles, types and statuses, time formats, the region list.
import { h } from "../../../ui/dom.js";
import { get } from "../common/http.js";
import { AGREEMENT_LABELS, TYPE_LABELS } from "../../../ui/format.js";

export const ROLE_LABELS = {
  admin: "系统管理员",
  supervisor: "监管人员",
  inspector: "检查人员",
  manager: "机构医保负责人",
};

export { AGREEMENT_LABELS, TYPE_LABELS };

/** "2026-05-01 14:03" in the browser's time zone (the bureau's), or "—". */
export function dateTime(value) {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The region tree flattened in display order, each node with its `depth`. */
export function flattenRegions(nodes, depth = 0, out = []) {
  for (const node of nodes) {
    out.push({ ...node, depth });
    flattenRegions(node.children || [], depth + 1, out);
  }
  return out;
}

/** Every region, flattened (GET /api/admin/regions). */
export async function loadRegions() {
  return flattenRegions(await get("/api/admin/regions"));
}

/** A <select> of regions (indented by level), with an optional first "all" choice. */
export function regionSelect(regions, { name = "region", value = "", all = "全部地区", id = null } = {}) {
  return h("select", { name, id },
    all !== null ? h("option", { value: "" }, all) : null,
    regions.map((r) => h("option", { value: r.code, selected: r.code === value },
      `${"　".repeat(r.depth)}${r.name}（${r.code}）`)));
}

/** A <select> from {value: label}, with an optional first "all" choice. */
export function choiceSelect(labels, { name, value = "", all = "全部", id = null } = {}) {
  return h("select", { name, id },
    all !== null ? h("option", { value: "" }, all) : null,
    Object.entries(labels).map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

/** A status pill: a word with a colour (never the colour alone). */
export function pill(text, tone = "neutral") {
  return h(`span.d-pill.${tone}`, text);
}
