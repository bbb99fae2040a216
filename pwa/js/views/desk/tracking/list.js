// The list behind a 看板 number: `#/desk/dashboard/list?what=inspections&grade=优秀&region=…`.
// The same filters as the board, plus what the number counted; rows open the 机构档案.
import { h, replace } from "../../../ui/dom.js";
import { AGREEMENT_LABELS } from "../../../ui/format.js";
import { download, errorText, get } from "../common/http.js";
import { formMessage, pageHead } from "../common/page.js";
import { dataTable, pager } from "../common/table.js";
import { deskHash } from "../common/url.js";
import { describe, filtersOf } from "./filters.js";

const LIMIT = 50;
const NARROW = ["grade", "month", "band", "item", "kind", "inspected", "agreement_status", "state", "step", "institution"];
const TITLES = {
  inspections: "检查记录", institutions: "定点医药机构", tasks: "整改事项", notices: "整改通知书",
  escalations: "处理措施", physicians: "被记分的医保医师",
};
const STATES = { open: "未完成", overdue: "已逾期", answered: "待验收", accepted: "验收通过", cancelled: "已撤销", all: "全部" };
const STEPS = { interview: "约谈", suspend_settlement: "暂停结算", recover_funds: "追回费用", penalty: "支付违约金", suspend_agreement: "中止协议", terminate_agreement: "解除协议" };

const archiveLink = (row) => h("a", { href: deskHash(["archive", row.institution_id || row.id]) }, row.institution_name || row.name);
const status = (label, bad) => h("span.d-pill", { class: bad ? "d-pill bad" : "d-pill neutral" }, label);

const COLUMNS = {
  inspections: [
    { key: "date", label: "检查日期", width: "7.5em" },
    { key: "institution_code", label: "机构编码", width: "10em" },
    { key: "institution_name", label: "机构名称", render: archiveLink },
    { key: "region_name", label: "地区", width: "6em" },
    { key: "kind_label", label: "检查方式", width: "6.5em" },
    { key: "score_total", label: "得分", num: true, width: "4.5em" },
    { key: "grade", label: "等级", width: "4.5em", render: (r) => status(r.grade, r.grade === "不合格") },
    { key: "failed_items", label: "不符合项", num: true, width: "5em" },
    { key: "notice_number", label: "整改通知书", width: "12em" },
  ],
  institutions: [
    { key: "code", label: "机构编码", width: "10em" },
    { key: "name", label: "机构名称", render: archiveLink },
    { key: "type_label", label: "类型", width: "7em" },
    { key: "region_name", label: "地区", width: "6em" },
    { key: "agreement_status_label", label: "协议状态", width: "5.5em", render: (r) => status(r.agreement_status_label, r.agreement_status !== "normal") },
    { key: "inspections", label: "期间检查", num: true, width: "5em" },
    { key: "last_inspected_on", label: "最近检查", width: "7.5em" },
  ],
  tasks: [
    { key: "notice_number", label: "整改通知书", width: "12em" },
    { key: "seq", label: "序号", num: true, width: "3.5em" },
    { key: "institution_name", label: "机构名称", render: archiveLink },
    { key: "item_text", label: "整改事项" },
    { key: "deadline", label: "整改期限", width: "7.5em" },
    { key: "status_label", label: "状态", width: "5.5em", render: (r) => status(r.overdue ? `逾期 ${r.days_overdue} 天` : r.status_label, r.overdue) },
  ],
  notices: [
    { key: "number", label: "文号", width: "13em" },
    { key: "issued_on", label: "签发日期", width: "7.5em" },
    { key: "institution_name", label: "机构名称", render: archiveLink },
    { key: "status_label", label: "状态", width: "5.5em" },
    { key: "tasks_open", label: "未完成事项", num: true, width: "6em", render: (r) => `${r.tasks_open} / ${r.tasks}` },
  ],
  escalations: [
    { key: "decided_on", label: "决定日期", width: "7.5em" },
    { key: "step_label", label: "处理措施", width: "6.5em" },
    { key: "institution_name", label: "机构名称", render: archiveLink },
    { key: "notice_number", label: "整改通知书", width: "12em" },
    { key: "document_no", label: "文书编号", width: "10em" },
    { key: "note", label: "说明" },
  ],
  physicians: [
    { key: "name", label: "医师", width: "6em" },
    { key: "department", label: "科室", width: "7em" },
    { key: "institution_name", label: "机构名称", render: archiveLink },
    { key: "status_label", label: "状态", width: "5em" },
    { key: "year_points", label: "本年剩余分", num: true, width: "6em" },
  ],
};

/** What the narrowing says, in words: "等级：优秀 · 月份：2026-03". */
function narrowing(query) {
  const parts = [];
  if (query.grade) parts.push(`等级：${query.grade}`);
  if (query.month) parts.push(`月份：${query.month}`);
  if (query.band) parts.push(`得分：${query.band} 分`);
  if (query.item) parts.push(`不符合检查项：${query.item.split(":")[1] || query.item}`);
  if (query.inspected) parts.push(query.inspected === "yes" ? "期间内已检查" : "期间内未检查");
  if (query.agreement_status) parts.push(`协议状态：${AGREEMENT_LABELS[query.agreement_status] || query.agreement_status}`);
  if (query.state) parts.push(`状态：${STATES[query.state] || query.state}`);
  if (query.step) parts.push(`处理措施：${STEPS[query.step] || query.step}`);
  return parts.join(" · ");
}

function exportButtons(what, query, message) {
  const names = what === "inspections" ? [["inspections", "检查记录"], ["findings", "检查发现"]]
    : what === "tasks" ? [["rectification-tasks", "整改事项"]] : [];
  const params = { ...filtersOf(query) };
  for (const key of NARROW) if (query[key] && key !== "institution") params[key] = query[key];
  const buttons = [];
  for (const [name, label] of names) {
    for (const ext of ["xlsx", "csv"]) {
      buttons.push(h("button.btn.secondary.small", {
        type: "button",
        dataset: { export: `${name}.${ext}` },
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          formMessage(message, "");
          try {
            const search = new URLSearchParams(params).toString();
            await download(`/api/exports/${name}.${ext}${search ? `?${search}` : ""}`, `${label}.${ext}`);
          } catch (error) {
            formMessage(message, errorText(error));
          } finally {
            button.disabled = false;
          }
        },
      }, `导出${label} ${ext.toUpperCase()}`));
    }
  }
  return buttons;
}

/** Render the list named by `?what=`. */
export async function renderList(el, ctx) {
  const q = ctx.query;
  const what = COLUMNS[q.what] ? q.what : "inspections";
  const offset = Math.max(0, Number(q.offset) || 0);
  const params = { ...filtersOf(q), limit: LIMIT, offset };
  for (const key of NARROW) if (q[key]) params[key] = q[key];
  const page = await get(`/api/dashboard/list/${what}`, params);
  ctx.title(`${TITLES[what]} · 看板`);
  const message = h("p.d-msg", { hidden: true });
  const sub = [describe(page.filters), narrowing(q)].filter(Boolean).join(" · ");
  const back = h("a.btn.secondary", { href: deskHash("dashboard", filtersOf(q)) }, "返回看板");
  const table = dataTable({
    columns: COLUMNS[what],
    rows: page.items,
    empty: "没有符合条件的记录",
    onRow: (row) => ctx.navigate(deskHash(["archive", row.institution_id || row.id])),
    id: "d-track-list",
  });
  replace(el,
    pageHead(`${TITLES[what]}（${page.total}）`, sub, ...exportButtons(what, q, message), back),
    message,
    table,
    pager({ offset, limit: LIMIT, total: page.total, go: (next) => ctx.setQuery({ ...q, offset: next || "" }, { replace: false }) }));
  return null;
}
