// 整改通知书: the region's notices with a status filter (kept in the URL), and a notice's detail:
// its tasks with their states and deadlines (立即整改, 暂定 on the fallback calendar), 送达 and a
// later paper service (the windows counted again), the physicians' points it deducted with their
// 记分告知书, the measures taken, re-inspections and the history.
import { h, replace } from "../../../ui/dom.js";
import { icon } from "../../../ui/icons.js";
import { authedFetch, openAuthed } from "../../../ui/authed.js";
import { errorText, get, post } from "../common/http.js";
import { failure, field, formMessage, pageHead } from "../common/page.js";
import { dataTable, pager } from "../common/table.js";
import { deskHash } from "../common/url.js";
import { chinaToday, dayText, documentButton, historyList, institutionText, momentText, noticePill, pill, taskPill } from "./common.js";

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

/** 整改期限 as the notice prints it: 立即整改, or the day (暂定 when counted on the fallback calendar). */
// The inspection's evidence ZIP (record.json, its signature, photos, the notice PDF): fetched with
// the token, then saved under its own name.
async function downloadEvidence(button, inspectionId) {
  button.disabled = true;
  try {
    const response = await authedFetch(`/api/inspections/${inspectionId}/evidence.zip`);
    if (!response.ok) throw new Error(`证据包下载失败（${response.status}）`);
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `evidence-${inspectionId}.zip` });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    window.alert(errorText(error));
  } finally {
    button.disabled = false;
  }
}

function deadlineCell(t) {
  if (t.deadline_days === 0) return h("span.d-pills", h("strong", "立即整改"), t.overdue ? h("strong.d-late", `逾期 ${t.days_overdue} 天`) : null);
  const unit = t.deadline_basis === "working" ? "工作日" : "日";
  return h("span.d-pills",
    h("span", { title: `送达之日起 ${t.deadline_days} ${unit}` }, dayText(t.deadline)),
    t.deadline_provisional ? pill("暂定", "warn") : null,
    t.overdue ? h("strong.d-late", `逾期 ${t.days_overdue} 天`) : null);
}

const METHODS = { paper: "纸质送达", electronic: "电子送达" };

/** Record a later paper service (送达): the objection window and the deadlines count from it. */
function serviceForm(notice, done) {
  const message = h("p.d-msg", { hidden: true });
  const day = h("input#d-served-on", { type: "date", name: "served_on", required: true, value: chinaToday(), min: notice.issue_date || undefined, max: chinaToday() });
  const method = h("select#d-service-method", { name: "method" }, Object.entries(METHODS).map(([value, label]) => h("option", { value, selected: value === "paper" }, label)));
  const note = h("input#d-service-note", { name: "note", maxlength: "500", placeholder: "如：签收人 张三", autocomplete: "off" });
  const form = h("form.d-inline-form.d-service-form#d-service-form",
    h("div.d-grid", field("送达日期", day), field("送达方式", method), field("备注", note)),
    message,
    h("button.btn.secondary#d-service-submit", { type: "submit" }, "登记送达"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const fresh = await post(`/api/rectification/notices/${notice.id}/service`, { served_on: day.value, method: method.value, note: note.value.trim() });
      done(fresh);
    } catch (error) {
      formMessage(message, errorText(error));
      button.disabled = false;
    }
  });
  return form;
}

/** The physicians the notice deducted points from, with their 记分告知书 (none: nothing shown). */
function pointsSection(points) {
  if (!points || !points.physicians.length) return null;
  return h("section.d-card.d-notice-points#d-notice-points",
    h("div.d-card-head", h("h2", `医保医师记分（${points.physicians.length} 人）`),
      h("div.d-actions",
        h("button.btn.secondary.small#d-points-document", { type: "button", onclick: () => openAuthed(points.document_url) }, icon("file", { size: 18 }), "记分告知书"),
        h("button.btn.secondary.small", { type: "button", onclick: () => openAuthed(points.pdf_url) }, "PDF"))),
    dataTable({
      id: "d-notice-points-table",
      rows: points.physicians,
      columns: [
        { key: "name", label: "医师", render: (p) => `${p.name}${p.department ? `（${p.department}）` : ""}` },
        { key: "deductions", label: "记分事项", render: (p) => p.deductions.map((d) => `${d.seq ? `问题${d.seq}：` : ""}${d.points} 分${d.reversed_on ? "（已撤销）" : ""}`).join("；") },
        { key: "points", label: "本次", num: true, render: (p) => `${p.points} 分` },
        { key: "remaining", label: "年度剩余", num: true, render: (p) => h("span", { class: p.remaining < p.initial ? "d-low" : null }, `${p.remaining} 分`) },
        { key: "status_text", label: "状态", render: (p) => pill(p.status_text, p.status === "active" ? "neutral" : "bad") },
      ],
    }),
    h("p.d-hint", `异议期至 ${dayText(points.objection_deadline)}${points.objection_provisional ? "（暂定）" : ""}：医保医师通过机构对相应整改事项提出申诉，异议成立的撤销记分。`));
}

async function detail(el, ctx, id, flash = "") {
  let notice;
  let points = null;
  let seal = null;
  try {
    [notice, points] = await Promise.all([
      get(`/api/rectification/notices/${id}`),
      get(`/api/rectification/notices/${id}/deductions`).catch(() => null), // the notice shows without it
    ]);
    seal = await get(`/api/inspections/${notice.inspection_id}`).then((i) => i.seal).catch(() => null);
  } catch (error) {
    replace(el, failure(error, () => ctx.navigate(location.hash)));
    return null;
  }
  ctx.title(notice.number || "通知书草稿");
  const backHref = deskHash("notices");
  const desk = ctx.session && (ctx.session.role === "supervisor" || ctx.session.role === "admin");
  const served = notice.served_on ? `${dayText(notice.served_on)} · ${METHODS[notice.service_method] || notice.service_method}` : "未送达";
  const message = h("p.d-msg", { hidden: true });
  if (flash) formMessage(message, flash, "ok");
  const provisional = notice.tasks.some((t) => t.deadline_provisional) || notice.objection_provisional;
  replace(el,
    h("a.d-back", { href: backHref }, "‹ 整改通知书"),
    pageHead(notice.number || "整改通知书（草稿）", `${institutionText(notice.institution)} · ${notice.bureau}`, documentButton(notice)),
    message,
    h("section.d-card",
      h("dl.d-kv.d-kv-wide",
        h("div", h("dt", "状态"), h("dd", noticePill(notice))),
        h("div", h("dt", "检查"), h("dd", `${notice.inspection_kind} · ${dayText(notice.inspection_date)}`)),
        h("div", h("dt", "得分"), h("dd", notice.score_total === null ? "—" : `${notice.score_total} 分 · ${notice.grade || ""}`)),
        h("div", h("dt", "签发日期"), h("dd", dayText(notice.issue_date))),
        h("div", h("dt", "送达"), h("dd#d-notice-served", served)),
        h("div", h("dt", "申诉期至"), h("dd#d-notice-objection", notice.objection_deadline ? h("span.d-pills", `${dayText(notice.objection_deadline)}${notice.objection_open ? "（申诉期内）" : ""}`, notice.objection_provisional ? pill("暂定", "warn") : null) : "—")),
        h("div", h("dt", "检查人员"), h("dd", (notice.inspector_details || []).length
          ? notice.inspector_details.map((p) => `${p.name}（执法证号 ${p.enforcement_cert_no || "未登记"}）`).join("、")
          : notice.inspectors.join("、") || "—")),
        notice.amount_total ? h("div", h("dt", "违规金额"), h("dd", `${notice.amount_total} 元（予以追回）`)) : null,
        seal ? h("div", h("dt", "检查记录摘要"), h("dd.d-seal",
          h("code#d-record-digest", { title: `SHA-256 ${seal.digest}\n签名密钥 ${seal.key_id}` }, seal.short_digest || seal.digest.slice(0, 16)),
          h("button.btn.secondary.small#d-evidence-zip", { type: "button", onclick: (event) => downloadEvidence(event.currentTarget, notice.inspection_id) }, "下载证据包"))) : null),
      provisional ? h("p.d-hint", "标“暂定”的期限按未载入当年国务院节假日安排的日历计算（已跳过可推算的法定节假日），载入后以正式日历为准。") : null,
      desk && notice.status === "issued" ? h("details.d-service#d-service",
        h("summary", "登记纸质送达（送达日期晚于签发日期时，申诉期与整改期限自送达日起重新计算）"),
        serviceForm(notice, () => detail(el, ctx, id, "已登记送达，申诉期与整改期限已按送达日期重新计算"))) : null),
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
          { key: "item_text", label: "检查内容", render: (t) => h("span", t.item_text, t.fraud ? pill("移送", "bad") : null) },
          { key: "status", label: "状态", render: (t) => h("span.d-pills", taskPill(t), t.objection && t.objection.status === "pending" ? pill("申诉待处理", "warn") : null) },
          { key: "deadline", label: "整改期限", render: deadlineCell },
          { key: "amount", label: "违规金额", num: true, render: (t) => (t.amount ? `${t.amount} 元` : "—") },
          { key: "answered_at", label: "提交报告", render: (t) => (t.answered_at ? momentText(t.answered_at) : "—") },
        ],
      })),
    pointsSection(points),
    notice.escalations.length ? h("section.d-card",
      h("h2", "处理措施"),
      h("ul.d-plain", notice.escalations.map((e) => h("li", `${dayText(e.decided_on)} · ${e.label} · ${e.document_no || "无文书编号"} · 依据：${e.rule_reference}${e.note ? ` · ${e.note}` : ""}`)))) : null,
    h("section.d-card", h("h2", "通知书记录"), historyList(notice.history)));
  return null;
}
