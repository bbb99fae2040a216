// 整改通知书: the region's notices with a status filter (kept in the URL), and a notice's detail:
// its tasks with their states, the measures taken, re-inspections and the history.
import { h, replace } from "../../../ui/dom.js";
import { get } from "../common/http.js";
import { failure, field, pageHead } from "../common/page.js";
import { dataTable, pager } from "../common/table.js";
import { deskHash } from "../common/url.js";
import { dayText, documentButton, historyList, institutionText, momentText, noticePill, pill, taskPill } from "./common.js";

const STATUSES = [
  { value: "", label: "全部" },
  { value: "draft", label: "待签发" },
  { value: "issued", label: "整改中" },
  { value: "closed", label: "已办结" },
];
const LIMIT = 50;

export async function render(el, ctx) {
  if (ctx.path[0]) return detail(el, ctx, ctx.path[0]);
  ctx.title("整改通知书");
  const status = STATUSES.some((s) => s.value === ctx.query.status) ? ctx.query.status : "";
  const offset = Math.max(0, Number.parseInt(ctx.query.offset, 10) || 0);
  let page;
  try {
    page = await get("/api/rectification/notices", { status, limit: LIMIT, offset });
  } catch (error) {
    replace(el, failure(error, () => ctx.navigate(location.hash)));
    return null;
  }
  const select = h("select#d-notice-status", { name: "status", onchange: () => ctx.setQuery({ status: select.value }) },
    STATUSES.map((s) => h("option", { value: s.value, selected: s.value === status }, s.label)));
  replace(el,
    pageHead("整改通知书", `共 ${page.total} 份`),
    h("div.d-filters", field("状态", select)),
    dataTable({
      id: "d-notice-table",
      rows: page.items,
      empty: "没有符合条件的整改通知书。",
      onRow: (n) => ctx.navigate(deskHash(["notices", n.id])),
      columns: [
        { key: "number", label: "编号", render: (n) => n.number || "（草稿）" },
        { key: "institution", label: "机构", render: (n) => n.institution.name },
        { key: "status", label: "状态", render: noticePill },
        { key: "issue_date", label: "签发日期", render: (n) => dayText(n.issue_date) },
        { key: "task_count", label: "问题", num: true },
        { key: "open_count", label: "未办结", num: true },
        { key: "answered_count", label: "待验收", num: true },
        { key: "overdue_count", label: "逾期", num: true, render: (n) => (n.overdue_count ? h("strong.d-late", String(n.overdue_count)) : "0") },
        { key: "next_deadline", label: "最近期限", render: (n) => (n.next_deadline ? `${dayText(n.next_deadline)}${n.days_left < 0 ? `（逾期 ${-n.days_left} 天）` : `（剩 ${n.days_left} 天）`}` : "—") },
      ],
    }),
    page.total > LIMIT ? pager({ offset, limit: LIMIT, total: page.total, go: (next) => ctx.setQuery({ status, offset: next }) }) : null);
  return null;
}

async function detail(el, ctx, id) {
  let notice;
  try {
    notice = await get(`/api/rectification/notices/${id}`);
  } catch (error) {
    replace(el, failure(error, () => ctx.navigate(location.hash)));
    return null;
  }
  ctx.title(notice.number || "通知书草稿");
  const backHref = deskHash("notices");
  replace(el,
    h("a.d-back", { href: backHref }, "‹ 整改通知书"),
    pageHead(notice.number || "整改通知书（草稿）", `${institutionText(notice.institution)} · ${notice.bureau}`, documentButton(notice)),
    h("section.d-card",
      h("dl.d-kv.d-kv-wide",
        h("div", h("dt", "状态"), h("dd", noticePill(notice))),
        h("div", h("dt", "检查"), h("dd", `${notice.inspection_kind} · ${dayText(notice.inspection_date)}`)),
        h("div", h("dt", "得分"), h("dd", notice.score_total === null ? "—" : `${notice.score_total} 分 · ${notice.grade || ""}`)),
        h("div", h("dt", "签发日期"), h("dd", dayText(notice.issue_date))),
        h("div", h("dt", "申诉期至"), h("dd", notice.objection_deadline ? `${dayText(notice.objection_deadline)}${notice.objection_open ? "（申诉期内）" : ""}` : "—")),
        h("div", h("dt", "检查人员"), h("dd", notice.inspectors.join("、") || "—")))),
    h("section.d-card",
      h("h2", `整改事项（${notice.tasks.length}）`),
      dataTable({
        id: "d-notice-tasks",
        rows: notice.tasks,
        onRow: (t) => {
          const kind = t.status === "answered" ? "answers" : t.objection && t.objection.status === "pending" ? "objections" : null;
          if (kind) ctx.navigate(deskHash("todo", { tab: kind, id: t.id }));
        },
        columns: [
          { key: "seq", label: "序号", num: true, width: "4em" },
          { key: "item_text", label: "检查内容" },
          { key: "status", label: "状态", render: (t) => h("span.d-pills", taskPill(t), t.objection && t.objection.status === "pending" ? pill("申诉待处理", "warn") : null) },
          { key: "deadline", label: "整改期限", render: (t) => `${dayText(t.deadline)}${t.overdue ? `（逾期 ${t.days_overdue} 天）` : ""}` },
          { key: "answered_at", label: "提交报告", render: (t) => (t.answered_at ? momentText(t.answered_at) : "—") },
        ],
      })),
    notice.escalations.length ? h("section.d-card",
      h("h2", "处理措施"),
      h("ul.d-plain", notice.escalations.map((e) => h("li", `${dayText(e.decided_on)} · ${e.label} · ${e.document_no || "无文书编号"} · 依据：${e.rule_reference}${e.note ? ` · ${e.note}` : ""}`)))) : null,
    h("section.d-card", h("h2", "通知书记录"), historyList(notice.history)));
  return null;
}
