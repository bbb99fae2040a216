// 机构档案: search an institution by name or national code, then its page: identity and 协议状态
// with its history, every inspection with the score's trend, notices with their tasks, 医保医师
// with the chosen year's points and status, the yearly mean score and the year's 年度考核.
// `#/desk/archive?q=…`, `#/desk/archive/<id>?year=YYYY`.
import { h, replace } from "../../../ui/dom.js";
import { download, errorText, get } from "../common/http.js";
import { fact, failure, field, formMessage, loading, pageHead } from "../common/page.js";
import { dataTable, pager } from "../common/table.js";
import { deskHash } from "../common/url.js";
import { COLORS, drawChart } from "./charts.js";

const LIMIT = 50;
const badge = (text, bad = false) => h("span.d-pill", { class: bad ? "d-pill bad" : "d-pill neutral" }, text);

async function renderSearch(el, ctx) {
  ctx.title("机构档案");
  const q = ctx.query.q || "";
  const offset = Math.max(0, Number(ctx.query.offset) || 0);
  const input = h("input", { type: "search", name: "q", value: q, placeholder: "机构名称或定点机构编码", autocomplete: "off", "aria-label": "机构名称或编码" });
  const form = h("form.d-filters.d-archive-search", {
    onsubmit: (event) => { event.preventDefault(); ctx.setQuery({ q: input.value.trim() }, { replace: false }); },
  }, h("div.d-field.grow", h("label", { for: "d-archive-q" }, "查找机构"), Object.assign(input, { id: "d-archive-q" })),
  h("button.btn.primary.small", { type: "submit" }, "查找"));
  replace(el, pageHead("机构档案", "按名称或国家定点机构编码查找，打开机构的检查、整改与协议状态档案"), form, loading());
  const page = await get("/api/institutions", { q, limit: LIMIT, offset });
  const table = dataTable({
    columns: [
      { key: "code", label: "机构编码", width: "11em" },
      { key: "name", label: "机构名称", render: (r) => h("a", { href: deskHash(["archive", r.id]) }, r.name) },
      { key: "type_label", label: "类型", width: "7em" },
      { key: "region_name", label: "地区", width: "6em" },
      { key: "agreement_status_label", label: "协议状态", width: "6em", render: (r) => badge(r.agreement_status_label, r.agreement_status !== "normal") },
    ],
    rows: page.items,
    empty: q ? `没有名称或编码包含「${q}」的机构` : "没有机构",
    onRow: (row) => ctx.navigate(deskHash(["archive", row.id])),
  });
  replace(el, pageHead("机构档案", "按名称或国家定点机构编码查找，打开机构的检查、整改与协议状态档案"), form, table,
    pager({ offset, limit: LIMIT, total: page.total, go: (next) => ctx.setQuery({ q, offset: next || "" }, { replace: false }) }));
  return null;
}

function section(title, ...children) {
  return h("section.d-card.d-archive-section", h("h2", title), ...children);
}

function trendOption(inspections) {
  const points = [...inspections].reverse().filter((x) => x.score_total !== null);
  return {
    grid: { left: 40, right: 36, top: 24, bottom: 28, containLabel: true },
    tooltip: { trigger: "axis", formatter: (ps) => { const x = points[ps[0].dataIndex]; return `${x.date} ${x.kind_label}<br>${x.score_total} 分 · ${x.grade}`; } },
    xAxis: { type: "category", data: points.map((x) => x.date), axisLabel: { fontSize: 12 } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { fontSize: 12 } },
    series: [{
      type: "line", name: "正式得分", data: points.map((x) => ({ value: x.score_total, itemStyle: { color: COLORS.grades[x.grade] || COLORS.primary } })),
      symbolSize: 10, lineStyle: { color: COLORS.primary, width: 2 },
      markLine: { silent: true, symbol: "none", lineStyle: { color: "#aab4c1", type: "dashed" }, label: { formatter: "{c}" }, data: [{ yAxis: 60 }, { yAxis: 90 }] },
    }],
    _points: points,
  };
}

/** Yuan from the API's exact decimal ("-1500.00") without going through a float: "1,500.00". */
export function yuanText(amount) {
  const [whole, cents = "00"] = String(amount).replace(/^[-+]/, "").split(".");
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${cents.padEnd(2, "0").slice(0, 2)}`;
}

function amountText(amount) {
  if (amount === null || amount === undefined) return "—";
  const negative = String(amount).startsWith("-");
  return h("span", { class: negative ? "d-low" : "d-good" }, `${negative ? "扣罚" : "奖励"} ${yuanText(amount)} 元`);
}

function physicianStatus(p) {
  if (p.status === "suspended") return badge(`暂停至 ${p.suspended_until}`, true);
  if (p.status === "cancelled") {
    return h("span.d-pills", badge("取消资格", true), p.reapply_after ? h("span.d-hint", `${p.reapply_after} 起可重新申请`) : null);
  }
  return badge(p.status_label, false);
}

function assessmentSection(a, inst, ctx) {
  const s = a.assessment;
  const message = h("p.d-msg", { hidden: true });
  const exportButton = (ext) => h("button.btn.small", {
    type: "button",
    class: "btn small secondary",
    dataset: { file: `assessments.${ext}` },
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      formMessage(message, "");
      const name = `年度考核_${inst.region_name}_${a.year}年度.${ext}`;
      try {
        await download(`/api/exports/assessments.${ext}?year=${a.year}&region=${encodeURIComponent(inst.region_code)}`, name);
        formMessage(message, `已开始下载：${name}`, "ok");
      } catch (error) {
        formMessage(message, errorText(error));
      } finally {
        button.disabled = false;
      }
    },
  }, ext === "xlsx" ? `导出${inst.region_name}年度考核（XLSX）` : "CSV");
  return h("section.d-card.d-archive-section.d-assessment", { dataset: { year: a.year } },
    h("div.d-card-head", h("h2", `${a.year} 年度考核`), h("div.d-actions", exportButton("xlsx"), exportButton("csv"))),
    h("div.d-track-facts",
      fact("考核得分", s.score === null ? "—" : h("strong.num", `${s.score} 分`)),
      fact("等级", s.grade ? badge(s.grade, s.grade === "不合格") : "—"),
      fact("计入检查", `${s.inspections} 次（不含复查）`),
      fact("奖惩金额", amountText(s.amount)),
      fact("受扣分处理医师", `${s.penalised_physicians} / ${s.physicians} 人`),
      fact("信用等级评定", s.credit_rating_excluded ? badge("不参加", true) : badge("参加", false))),
    s.score === null ? h("p.d-hint", `${a.year} 年没有已提交的检查（复查不计），无考核得分。`) : null,
    s.reasons.length ? h("ul.d-reasons", s.reasons.map((r) => h("li", r))) : null,
    message);
}

async function renderPage(el, ctx, id) {
  replace(el, loading());
  const thisYear = Number(new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric" }).format(new Date()));
  const wanted = Number.parseInt(ctx.query.year, 10);
  const year = wanted >= 2000 && wanted <= 2100 ? wanted : thisYear;
  const a = await get(`/api/institutions/${encodeURIComponent(id)}/archive`, { year });
  const inst = a.institution;
  ctx.title(`${inst.name} · 机构档案`);
  const agreementBad = inst.agreement_status !== "normal";
  const identity = h("section.d-card.d-archive-id",
    h("div.d-track-facts",
      fact("定点机构编码", inst.code), fact("类型", inst.type_label), fact("等级", inst.level), fact("地区", inst.region_name),
      fact("地址", inst.address), fact("联系人", [inst.contact_name, inst.contact_phone].filter(Boolean).join(" ")),
      fact("医保医师", `${inst.physician_count} 人`),
      fact("协议状态", badge(inst.agreement_status_label, agreementBad))));

  const trendBox = h("div.d-chart.d-chart-trend", { role: "img", "aria-label": "得分趋势" });
  const yearly = a.yearly.length
    ? h("ul.d-yearly", a.yearly.map((y) => h("li", h("span", `${y.year} 年`), h("span.num", `${y.mean} 分`), h("span.d-hint", `${y.inspections} 次检查（不含复查）`))))
    : null;
  const inspections = section(`现场检查（${a.inspections.length}）`,
    a.inspections.length ? trendBox : h("p.d-hint", "尚无已提交的检查"),
    yearly,
    dataTable({
      columns: [
        { key: "date", label: "检查日期", width: "7.5em" },
        { key: "kind_label", label: "检查方式", width: "6.5em" },
        { key: "checklist_title", label: "检查表" },
        { key: "score_total", label: "得分", num: true, width: "4.5em" },
        { key: "grade", label: "等级", width: "4.5em", render: (r) => badge(r.grade, r.grade === "不合格") },
        { key: "failed_items", label: "不符合项", num: true, width: "5em" },
        { key: "notice_number", label: "整改通知书", width: "12em" },
      ],
      rows: a.inspections,
      empty: "尚无已提交的检查",
    }));

  const notices = section(`整改通知书（${a.notices.length}）`,
    a.notices.length ? a.notices.map((n) => h("div.d-archive-notice",
      h("div.d-archive-notice-head",
        h("a", { href: deskHash(["notices", n.id]) }, n.number || "待签发"),
        badge(n.status_label, n.tasks_overdue > 0),
        h("span.d-hint", [n.issued_on ? `签发 ${n.issued_on}` : "", `未完成 ${n.tasks_open} / ${n.tasks.length}`, n.tasks_overdue ? `逾期 ${n.tasks_overdue}` : ""].filter(Boolean).join(" · "))),
      dataTable({
        columns: [
          { key: "seq", label: "序号", num: true, width: "3.5em" },
          { key: "item_text", label: "整改事项" },
          { key: "deadline", label: "整改期限", width: "7.5em" },
          { key: "status_label", label: "状态", width: "7em", render: (t) => badge(t.overdue ? `逾期 ${t.days_overdue} 天` : t.status_label, t.overdue) },
        ],
        rows: n.tasks,
        empty: "无整改事项",
      }))) : h("p.d-hint", "没有整改通知书"));

  const historyRows = [
    ...a.escalations.map((e) => ({ at: e.decided_on, what: `处理措施：${e.step_label}`, detail: [e.notice_number, e.document_no, e.note].filter(Boolean).join(" · "), key: e.id })),
    ...a.agreement_history.map((c) => ({ at: c.at.slice(0, 10), what: `协议状态：${c.from_label} → ${c.to_label}`, detail: [c.reason, c.by].filter(Boolean).join(" · "), key: `${c.at}-${c.to_status}` })),
  ].sort((x, y) => String(y.at).localeCompare(String(x.at)));
  const agreement = section("协议状态与处理措施",
    h("p", "当前协议状态：", badge(inst.agreement_status_label, agreementBad)),
    dataTable({
      columns: [{ key: "at", label: "日期", width: "7.5em" }, { key: "what", label: "事项", width: "14em" }, { key: "detail", label: "说明" }],
      rows: historyRows,
      rowKey: (r) => r.key,
      empty: "没有处理措施或协议状态变更",
    }));

  const penalised = a.physicians.filter((p) => p.deducted > 0).length;
  const physicians = section(`医保医师（${a.physicians.length}）`,
    h("p.d-hint", `${a.year} 年度记分：${penalised} 人受扣分处理${a.year < thisYear ? "；状态为当年 12 月 31 日的状态" : ""}`),
    dataTable({
      id: "d-archive-physicians",
      columns: [
        { key: "name", label: "姓名", width: "5.5em" },
        { key: "department", label: "科室", width: "6em" },
        { key: "certificate_no", label: "执业证书编码" },
        { key: "deducted", label: "已扣分", num: true, width: "4.5em", render: (p) => (p.deducted ? h("span.d-low", String(p.deducted)) : "0") },
        { key: "year_points", label: "剩余分", num: true, width: "4.5em", render: (p) => h("span", { class: p.year_points < 12 ? "d-low" : null }, String(p.year_points)) },
        { key: "status", label: "状态", width: "11em", render: physicianStatus },
      ],
      rows: a.physicians,
      empty: "没有登记的医保医师",
    }));

  const years = [...new Set([thisYear, thisYear - 1, thisYear - 2, year, ...a.yearly.map((y) => y.year)])].sort((x, y) => y - x);
  const yearSelect = h("select#d-archive-year", { name: "year", onchange: () => ctx.setQuery({ year: yearSelect.value }, { replace: false }) },
    years.map((y) => h("option", { value: String(y), selected: y === year }, `${y} 年`)));
  const assessment = assessmentSection(a, inst, ctx);

  replace(el,
    pageHead(inst.name, `${inst.code} · ${inst.type_label} · ${inst.region_name}`,
      h("a.btn.secondary", { href: deskHash(["dashboard", "list"], { what: "inspections", institution: inst.id, from: "2000-01-01", to: `${new Date().getFullYear()}-12-31` }) }, "全部检查列表"),
      h("a.btn.secondary", { href: deskHash("archive") }, "查找其他机构")),
    identity,
    h("div.d-filters.d-archive-year", field("考核与记分年度", yearSelect)),
    h("div.d-archive-grid", h("div.d-archive-col", assessment, inspections, physicians), h("div.d-archive-col", agreement, notices)));
  if (a.inspections.length) {
    const option = trendOption(a.inspections);
    const points = option._points;
    delete option._points;
    const dispose = drawChart(trendBox, option);
    trendBox.setAttribute("aria-label", `得分趋势：${points.map((x) => `${x.date} ${x.score_total} 分`).join("，")}`);
    return dispose;
  }
  return null;
}

/** The module: search, or one institution's page. */
export async function render(el, ctx) {
  try {
    if (ctx.path[0]) return await renderPage(el, ctx, ctx.path[0]);
    return await renderSearch(el, ctx);
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
    return null;
  }
}
