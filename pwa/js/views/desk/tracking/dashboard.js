// 看板: the bureau's numbers for a region, an institution type and a period. Every number and
// every bar opens the list behind it (`#/desk/dashboard/list?what=…`).
import { h, replace } from "../../../ui/dom.js";
import { get } from "../common/http.js";
import { failure, loading, pageHead } from "../common/page.js";
import { deskHash } from "../common/url.js";
import { COLORS, drawChart } from "./charts.js";
import { describe, filterBar, filtersOf } from "./filters.js";
import { renderList } from "./list.js";

const GRADES = ["优秀", "良好", "合格", "不合格"];

function listHash(query, what, narrow = {}) {
  return deskHash(["dashboard", "list"], { ...filtersOf(query), what, ...narrow });
}

function percent(part, whole) {
  return whole ? `${Math.round((part / whole) * 1000) / 10}%` : "—";
}

/** One headline number: a link to its list. */
function tile(label, value, href, { hint = null, tone = null } = {}) {
  return h("a.d-kpi", { href, class: tone ? `d-kpi ${tone}` : null, dataset: { kpi: label } },
    h("span.d-kpi-label", label),
    h("span.d-kpi-value.num", String(value ?? "—")),
    hint ? h("span.d-kpi-hint", hint) : null);
}

function panel(title, body, { wide = false, note = null } = {}) {
  return h("section.d-card.d-chart-card", { class: wide ? "d-card d-chart-card wide" : null },
    h("h2", title), note ? h("p.d-hint", note) : null, body);
}

/** A chart's box with, under it, the same numbers as links (what a screen reader or a printout gets). */
function chartBox(links) {
  const box = h("div.d-chart", { role: "img" });
  return { box, node: h("div", box, links.length ? h("ul.d-chart-links", links.map(([label, value, href]) => h("li", h("a", { href }, label, h("span.num", String(value)))))) : null) };
}

const baseAxis = { axisLabel: { fontSize: 12, color: "#46515f" }, axisLine: { lineStyle: { color: "#aab4c1" } } };
const grid = { left: 44, right: 16, top: 36, bottom: 28, containLabel: true };
const tooltip = { trigger: "axis", axisPointer: { type: "shadow" } };
const legend = { top: 0, textStyle: { fontSize: 12 } };

function charts(ctx, data, summary) {
  const q = ctx.query;
  const go = (hash) => ctx.navigate(hash);
  const specs = [];

  const regions = data.coverage.by_region;
  const cov = chartBox(regions.map((r) => [`${r.region_name} 已检查 ${r.inspected}/${r.institutions}`, percent(r.inspected, r.institutions),
    deskHash(["dashboard", "list"], { ...filtersOf(q), region: r.region, what: "institutions", inspected: "yes" })]));
  specs.push([panel("检查覆盖（按地区）", cov.node, { note: "柱：机构数与期间内已检查机构数；点击查看机构" }), cov.box, {
    grid, tooltip, legend,
    xAxis: { type: "category", data: regions.map((r) => r.region_name), ...baseAxis },
    yAxis: { type: "value", minInterval: 1, ...baseAxis },
    series: [
      { name: "机构数", type: "bar", data: regions.map((r) => r.institutions), itemStyle: { color: COLORS.soft } },
      { name: "已检查", type: "bar", data: regions.map((r) => r.inspected), itemStyle: { color: COLORS.primary } },
    ],
  }, (p) => { const r = regions[p.dataIndex]; go(deskHash(["dashboard", "list"], { ...filtersOf(q), region: r.region, what: "institutions", inspected: p.seriesIndex === 1 ? "yes" : "" })); }]);

  const types = data.coverage.by_type;
  const ty = chartBox(types.map((t) => [`${t.type_label} 已检查 ${t.inspected}/${t.institutions}`, percent(t.inspected, t.institutions),
    deskHash(["dashboard", "list"], { ...filtersOf(q), type: t.type, what: "institutions", inspected: "yes" })]));
  specs.push([panel("检查覆盖（按机构类型）", ty.node), ty.box, {
    grid, tooltip, legend,
    xAxis: { type: "category", data: types.map((t) => t.type_label), ...baseAxis },
    yAxis: { type: "value", minInterval: 1, ...baseAxis },
    series: [
      { name: "机构数", type: "bar", data: types.map((t) => t.institutions), itemStyle: { color: COLORS.soft } },
      { name: "已检查", type: "bar", data: types.map((t) => t.inspected), itemStyle: { color: COLORS.primary } },
    ],
  }, (p) => { const t = types[p.dataIndex]; go(deskHash(["dashboard", "list"], { ...filtersOf(q), type: t.type, what: "institutions", inspected: p.seriesIndex === 1 ? "yes" : "" })); }]);

  const trend = data.trend;
  const tr = chartBox([]);
  specs.push([panel("检查次数与平均得分（按月）", tr.node, { wide: true, note: "点击某月查看该月检查记录" }), tr.box, {
    grid: { ...grid, right: 44 }, tooltip: { trigger: "axis" }, legend,
    xAxis: { type: "category", data: trend.map((m) => m.month), ...baseAxis },
    yAxis: [{ type: "value", name: "次", minInterval: 1, ...baseAxis }, { type: "value", name: "分", min: 0, max: 100, ...baseAxis }],
    series: [
      ...GRADES.map((g) => ({ name: g, type: "bar", stack: "grades", data: trend.map((m) => m.by_grade[g]), itemStyle: { color: COLORS.grades[g] } })),
      { name: "平均得分", type: "line", yAxisIndex: 1, data: trend.map((m) => m.average_score), connectNulls: true, itemStyle: { color: "#15202b" }, symbolSize: 7 },
    ],
  }, (p) => { const m = trend[p.dataIndex]; go(listHash(q, "inspections", { month: m.month, grade: p.seriesType === "bar" ? p.seriesName : "" })); }]);

  const bands = data.scores;
  const sc = chartBox([]);
  specs.push([panel("得分分布", sc.node), sc.box, {
    grid, tooltip,
    xAxis: { type: "category", data: bands.map((b) => b.band), ...baseAxis, axisLabel: { ...baseAxis.axisLabel, interval: 0 } },
    yAxis: { type: "value", minInterval: 1, ...baseAxis },
    series: [{ name: "检查数", type: "bar", data: bands.map((b) => ({ value: b.inspections, itemStyle: { color: b.min >= 90 ? COLORS.grades["优秀"] : b.min >= 80 ? COLORS.grades["良好"] : b.min >= 60 ? COLORS.grades["合格"] : COLORS.grades["不合格"] } })) }],
  }, (p) => go(listHash(q, "inspections", { band: bands[p.dataIndex].band }))]);

  const gr = chartBox(GRADES.map((g) => [g, summary.by_grade[g], listHash(q, "inspections", { grade: g })]));
  specs.push([panel("等级", gr.node), gr.box, {
    tooltip: { trigger: "item", formatter: "{b}：{c} 次（{d}%）" }, legend: { ...legend, bottom: 0, top: "auto" },
    series: [{ type: "pie", radius: ["38%", "68%"], center: ["50%", "46%"], label: { formatter: "{b} {c}" },
      data: GRADES.map((g) => ({ name: g, value: summary.by_grade[g], itemStyle: { color: COLORS.grades[g] }, label: { show: summary.by_grade[g] > 0 }, labelLine: { show: summary.by_grade[g] > 0 } })) }],
  }, (p) => go(listHash(q, "inspections", { grade: p.name }))]);

  const items = [...data.failed_items].reverse();
  const fi = chartBox([]);
  const itemTable = h("ol.d-failed-items", data.failed_items.map((i) => h("li",
    h("a", { href: listHash(q, "inspections", { item: i.item }) }, h("span.d-failed-text", i.item_text), h("span.num", `${i.failed} 次 · ${Math.round(i.fail_rate * 100)}%`)))));
  specs.push([panel("不符合次数最多的检查项", h("div", fi.node, data.failed_items.length ? itemTable : h("p.d-hint", "期间内没有不符合项")), { wide: true }), fi.box, {
    grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true }, tooltip,
    xAxis: { type: "value", minInterval: 1, ...baseAxis },
    yAxis: { type: "category", data: items.map((i) => (i.item_text.length > 18 ? `${i.item_text.slice(0, 18)}…` : i.item_text)), ...baseAxis },
    series: [{ name: "不符合次数", type: "bar", data: items.map((i) => i.failed), itemStyle: { color: COLORS.fail }, label: { show: true, position: "right" } }],
  }, (p) => go(listHash(q, "inspections", { item: items[p.dataIndex].item }))]);

  const tasks = data.tasks;
  const ta = chartBox([]);
  specs.push([panel("整改事项状态", ta.node, { note: "期间内签发的整改通知书；红色为其中逾期" }), ta.box, {
    grid, tooltip, legend,
    xAxis: { type: "category", data: tasks.map((t) => t.status_label), ...baseAxis },
    yAxis: { type: "value", minInterval: 1, ...baseAxis },
    series: [
      { name: "事项数", type: "bar", data: tasks.map((t) => t.tasks), itemStyle: { color: COLORS.primary } },
      { name: "其中逾期", type: "bar", data: tasks.map((t) => t.overdue), itemStyle: { color: COLORS.fail } },
    ],
  }, (p) => go(listHash(q, "tasks", { state: p.seriesIndex === 1 ? "overdue" : tasks[p.dataIndex].status }))]);

  const steps = data.escalations;
  const es = chartBox([]);
  specs.push([panel("处理措施", es.node), es.box, {
    grid, tooltip,
    xAxis: { type: "category", data: steps.map((s) => s.step_label), ...baseAxis, axisLabel: { ...baseAxis.axisLabel, interval: 0, rotate: 30 } },
    yAxis: { type: "value", minInterval: 1, ...baseAxis },
    series: [{ name: "次数", type: "bar", data: steps.map((s) => s.escalations), itemStyle: { color: COLORS.warn } }],
  }, (p) => go(listHash(q, "escalations", { step: steps[p.dataIndex].step }))]);

  const agreement = data.agreement;
  const ag = chartBox(agreement.map((a) => [a.status_label, a.institutions, listHash(q, "institutions", { agreement_status: a.status })]));
  specs.push([panel("协议状态", ag.node), ag.box, {
    tooltip: { trigger: "item", formatter: "{b}：{c} 家" }, legend: { ...legend, bottom: 0, top: "auto" },
    series: [{ type: "pie", radius: ["38%", "68%"], center: ["50%", "46%"], label: { formatter: "{b} {c}" },
      data: agreement.map((a) => ({ name: a.status_label, value: a.institutions, label: { show: a.institutions > 0 }, labelLine: { show: a.institutions > 0 }, itemStyle: { color: { normal: COLORS.pass, suspended: COLORS.warn, terminated: COLORS.fail }[a.status] } })) }],
  }, (p) => go(listHash(q, "institutions", { agreement_status: agreement[p.dataIndex].status }))]);
  return specs;
}

function physicians(ctx, data) {
  const p = data.physicians;
  const body = p.lowest.length
    ? h("ul.d-low-list", p.lowest.map((d) => h("li",
      h("a", { href: deskHash(["archive", d.institution_id]) }, h("span", `${d.name}（${d.institution_name}）`), h("span.num", `${d.year_points} 分`)))))
    : h("p.d-hint", "本年度没有被记分的医保医师");
  return panel("医保医师记分", h("div",
    h("a.d-kpi.small", { href: listHash(ctx.query, "physicians") }, h("span.d-kpi-label", "被记分医师"), h("span.d-kpi-value.num", String(p.count))),
    body), { note: "本年度剩余分数不足 12 分者，分数最低的在前" });
}

async function renderBoard(el, ctx) {
  const q = ctx.query;
  replace(el, loading());
  const params = filtersOf(q);
  const [summary, data] = await Promise.all([get("/api/dashboard/summary", params), get("/api/dashboard/details", params)]);
  const applied = summary.filters;
  const apply = (next) => ctx.setQuery(next, { replace: false });
  const exportHref = deskHash("exports", filtersOf(q));
  const tiles = h("div.d-kpis",
    tile("定点医药机构", summary.institutions, listHash(q, "institutions")),
    tile("已检查机构", summary.inspected_institutions, listHash(q, "institutions", { inspected: "yes" }),
      { hint: `覆盖率 ${percent(summary.inspected_institutions, summary.institutions)}` }),
    tile("未检查机构", summary.institutions - summary.inspected_institutions, listHash(q, "institutions", { inspected: "no" })),
    tile("检查次数", summary.inspections, listHash(q, "inspections"),
      { hint: summary.average_score === null ? "暂无得分" : `平均 ${summary.average_score} 分` }),
    tile("未完成整改事项", summary.tasks_open, listHash(q, "tasks", { state: "open" }), { hint: `共 ${summary.tasks} 项` }),
    tile("逾期整改事项", summary.tasks_overdue, listHash(q, "tasks", { state: "overdue" }), { tone: summary.tasks_overdue ? "bad" : null }),
    tile("整改中通知书", summary.notices_open, listHash(q, "notices", { state: "open" }), { hint: `共签发 ${summary.notices} 份` }),
    tile("处理措施", summary.escalations, listHash(q, "escalations"), { hint: `涉及 ${summary.escalated_institutions} 家机构` }));
  const gradeRow = h("div.d-grade-row", GRADES.map((g) =>
    h("a.d-grade", { href: listHash(q, "inspections", { grade: g }), dataset: { grade: g } },
      h("span", g), h("span.num", String(summary.by_grade[g])))));
  const specs = charts(ctx, data, summary);
  const grid = h("div.d-chart-grid", specs.map(([node]) => node), physicians(ctx, data));
  replace(el,
    pageHead("看板", describe(applied), h("a.btn.secondary", { href: exportHref }, "导出…")),
    filterBar({ query: q, applied, regions: summary.regions, apply }),
    tiles,
    h("div.d-grade-wrap", h("span.d-grade-title", "检查等级"), gradeRow),
    grid);
  const disposers = specs.map(([, box, option, onClick]) => drawChart(box, option, onClick));
  return () => disposers.forEach((d) => d());
}

/** The module: the board, or a list behind one of its numbers (`list`). */
export async function render(el, ctx) {
  try {
    if (ctx.path[0] === "list") return await renderList(el, ctx);
    ctx.title("看板");
    return await renderBoard(el, ctx);
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
    return null;
  }
}
