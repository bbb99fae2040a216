// The filters shared by the 看板, its lists and the exports: 地区 / 机构类型 / 时间, kept in the URL
// query (`region`, `type`, `from`, `to`), so that a view is a link.
import { h } from "../../../ui/dom.js";
import { TYPE_LABELS } from "../../../ui/format.js";
import { field } from "../common/page.js";

export const TYPES = [["", "全部类型"], ...Object.entries(TYPE_LABELS)];
export const FILTER_KEYS = ["region", "type", "from", "to"];

/** The shared filters of a query object (empty ones left out). */
export function filtersOf(query) {
  const out = {};
  for (const key of FILTER_KEYS) if (query[key]) out[key] = query[key];
  return out;
}

function chinaToday() {
  // The bureau's day (UTC+8) whatever the browser's zone.
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

function presets() {
  const today = chinaToday();
  const year = Number(today.slice(0, 4));
  const back = new Date(`${today}T00:00:00Z`);
  back.setUTCFullYear(back.getUTCFullYear() - 1);
  back.setUTCDate(back.getUTCDate() + 1);
  return [
    ["本年", `${year}-01-01`, `${year}-12-31`],
    ["上年", `${year - 1}-01-01`, `${year - 1}-12-31`],
    ["近 12 个月", back.toISOString().slice(0, 10), today],
  ];
}

/**
 * The filter bar. `applied` is the server's echo of the filters in force (defaults filled in),
 * `regions` the choices of 地区; `apply(next)` gets the new query.
 */
export function filterBar({ query, applied, regions = [], apply }) {
  const region = h("select", { name: "region" },
    h("option", { value: "" }, "本辖区全部"),
    regions.map((r) => h("option", { value: r.code, selected: r.code === query.region }, r.parent_code ? `　${r.name}` : r.name)));
  const type = h("select", { name: "type" },
    TYPES.map(([value, label]) => h("option", { value, selected: value === (query.type || "") }, label)));
  const from = h("input", { type: "date", name: "from", value: query.from || (applied && applied.from) || "" });
  const to = h("input", { type: "date", name: "to", value: query.to || (applied && applied.to) || "" });
  const submit = (next) => apply(Object.fromEntries(Object.entries(next).filter(([, v]) => v)));
  const form = h("form.d-filters.d-track-filters", {
    onsubmit: (event) => {
      event.preventDefault();
      submit({ region: region.value, type: type.value, from: from.value, to: to.value });
    },
    onchange: (event) => { if (event.target.tagName === "SELECT") form.requestSubmit(); },
  },
  field("地区", region),
  field("机构类型", type),
  field("开始日期", from),
  field("结束日期", to),
  h("div.d-track-presets", { role: "group", "aria-label": "时间" },
    presets().map(([label, start, end]) => h("button.btn.secondary.small", {
      type: "button",
      "aria-pressed": String(from.value === start && to.value === end),
      onclick: () => submit({ region: region.value, type: type.value, from: start, to: end }),
    }, label))),
  h("button.btn.primary.small", { type: "submit" }, "查询"));
  return form;
}

/** "威海市 · 全部类型 · 2026-01-01 至 2026-12-31" from the server's echo. */
export function describe(applied) {
  if (!applied) return "";
  return [applied.region_name, applied.type_label || "全部类型", `${applied.from} 至 ${applied.to}`].join(" · ");
}
