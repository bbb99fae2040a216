// 检查计划 · 任务列表 and 日历: the region's assignments with their status. Filters (状态, 检查类型,
// 地区, 时间) stay in the URL; the calendar shows one month (`month=YYYY-MM`), each assignment on the
// days of its window.
import { h, replace } from "../../../ui/dom.js";
import { get } from "../common/http.js";
import { failure, field, loading } from "../common/page.js";
import { dataTable } from "../common/table.js";
import { deskHash, formValues } from "../common/url.js";
import {
  KIND_LABELS, STATUS_LABELS, TYPE_LABELS, choiceSelect, isoDate, planningOptions, regionSelect, statusPill, windowText,
} from "./common.js";

const WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"];

function monthOf(query) {
  return /^\d{4}-\d{2}$/.test(query.month || "") ? query.month : isoDate().slice(0, 7);
}

function monthBounds(month) {
  const [y, m] = month.split("-").map(Number);
  const last = new Date(y, m, 0).getDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, "0")}`, y, m, last };
}

function shiftMonth(month, delta) {
  const [y, m] = month.split("-").map(Number);
  const d = new Date(y, m - 1 + delta, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

function filters(ctx, regions, calendar) {
  const q = ctx.query;
  const form = h("form.d-filters#plan-filters", { role: "search" },
    field("状态", choiceSelect(STATUS_LABELS, { name: "status", value: q.status || "" })),
    field("检查类型", choiceSelect(KIND_LABELS, { name: "kind", value: q.kind || "" })),
    field("地区", regionSelect(regions, { name: "region", value: q.region || "", all: "全部地区" })),
    calendar ? null : field("开始", h("input", { type: "date", name: "from", value: q.from || "" })),
    calendar ? null : field("结束", h("input", { type: "date", name: "to", value: q.to || "" })),
    h("button.btn.secondary", { type: "submit" }, "筛选"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(form);
    ctx.setQuery({ ...(calendar ? { month: q.month } : {}), ...values });
  });
  form.addEventListener("change", () => form.requestSubmit());
  return form;
}

function listView(rows, ctx) {
  return dataTable({
    id: "plan-table",
    rows,
    empty: "没有符合条件的检查任务",
    onRow: null,
    columns: [
      { key: "window", label: "时间窗口", width: "11em", render: (a) => h("span.num", windowText(a.window_start, a.window_end)) },
      { key: "institution", label: "机构", render: (a) => h("span", a.institution.name, h("br"), h("small.d-muted", a.institution.code)) },
      { key: "type", label: "机构类型", render: (a) => TYPE_LABELS[a.institution.type] || a.institution.type },
      { key: "region_name", label: "地区" },
      { key: "kind", label: "检查类型", render: (a) => a.kind_label },
      { key: "inspectors", label: "检查人员", render: (a) => a.inspectors.map((p) => p.display_name || p.username).join("、") },
      { key: "status", label: "状态", render: (a) => statusPill(a.status) },
      {
        key: "result", label: "结果",
        render: (a) => (a.inspection && a.inspection.status === "submitted"
          ? `${a.inspection.score_total ?? "—"} 分 · ${a.inspection.grade || ""}` : "—"),
      },
    ],
  });
}

function calendarView(rows, month, ctx) {
  const { y, m, last } = monthBounds(month);
  const firstDay = (new Date(y, m - 1, 1).getDay() + 6) % 7; // Monday first
  const today = isoDate();
  const cells = [];
  for (let i = 0; i < firstDay; i += 1) cells.push(h("div.d-cal-day.d-cal-blank", { "aria-hidden": "true" }));
  for (let day = 1; day <= last; day += 1) {
    const iso = `${month}-${String(day).padStart(2, "0")}`;
    const items = rows.filter((a) => a.window_start <= iso && a.window_end >= iso);
    const starting = items.filter((a) => a.window_start === iso || day === 1);
    const open = () => ctx.navigate(deskHash(["plan", "list"], { status: ctx.query.status, kind: ctx.query.kind, region: ctx.query.region, from: iso, to: iso }));
    cells.push(h("div.d-cal-day", {
      class: iso === today ? "d-cal-today" : null,
      dataset: { date: iso },
      role: "link",
      tabindex: "0",
      title: `${iso}：${items.length} 项，点击查看列表`,
      onclick: open,
      onkeydown: (event) => { if (event.key === "Enter") open(); },
    },
      h("div.d-cal-date", h("span.num", String(day)), items.length ? h("span.d-cal-n", `${items.length} 项`) : null),
      starting.slice(0, 4).map((a) => h(`div.d-cal-item.d-cal-${a.status}`, { title: `${a.institution.name} · ${a.kind_label} · ${STATUS_LABELS[a.status]}` },
        `${a.institution.name}`)),
      starting.length > 4 ? h("div.d-cal-more", `另 ${starting.length - 4} 项`) : null));
  }
  const go = (delta) => ctx.setQuery({ ...ctx.query, month: shiftMonth(month, delta) });
  return h("div.d-card.d-cal#plan-calendar",
    h("div.d-card-head",
      h("button.btn.secondary.small", { type: "button", onclick: () => go(-1) }, "上个月"),
      h("h2", `${y}年${m}月`),
      h("button.btn.secondary.small", { type: "button", onclick: () => go(1) }, "下个月")),
    h("p.d-hint", "每项显示在时间窗口的开始日；格内数字为当天窗口内的任务数。点击日期查看当天的任务列表。"),
    h("div.d-cal-grid", WEEKDAYS.map((w) => h("div.d-cal-head", `周${w}`)), cells),
    h("div.d-cal-legend", Object.entries(STATUS_LABELS).map(([k, v]) => h(`span.d-cal-item.d-cal-${k}`, v))));
}

export async function render(el, ctx) {
  const calendar = ctx.tab === "calendar";
  replace(el, loading());
  try {
    const { regions } = await planningOptions();
    const q = ctx.query;
    const month = monthOf(q);
    const bounds = calendar ? monthBounds(month) : { from: q.from, to: q.to };
    const rows = await get("/api/planning/assignments", {
      status: q.status, kind: q.kind, region: q.region, window_from: bounds.from, window_to: bounds.to,
    });
    replace(el,
      filters(ctx, regions, calendar),
      h("p.d-sub.num#plan-count", `共 ${rows.length} 项检查任务`),
      calendar ? calendarView(rows, month, ctx) : listView(rows, ctx));
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
  }
  return null;
}
