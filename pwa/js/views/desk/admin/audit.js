// 审计日志: read-only, newest first; filters (entity, user, action, dates) and the page live in the
// URL so that a view of the log can be shared.
import { h, replace } from "../../../ui/dom.js";
import { get } from "../common/http.js";
import { failure, field, loading } from "../common/page.js";
import { dataTable, pager } from "../common/table.js";
import { formValues } from "../common/url.js";
import { ROLE_LABELS, dateTime } from "./common.js";

const LIMIT = 50;
const ENTITY_LABELS = {
  user: "用户", device_session: "设备会话", institution: "机构", institution_import: "机构导入",
  region: "地区", checklist_version: "检查表版本", assignment: "检查任务", inspection: "检查",
  rectification_notice: "整改通知书", rectification_task: "整改事项", draw: "双随机抽取", photo: "照片",
};
const ACTION_LABELS = {
  "user.create": "创建用户", "user.update": "修改用户", "auth.revoke": "吊销设备会话",
  "auth.login_failed": "登录失败", "auth.locked": "账户锁定",
  "institution.create": "新建机构", "institution.update": "修改机构", "institution.import": "导入机构",
  "institution.set_agreement_status": "变更协议状态", "institution.rotate_qr": "更换检查码",
  "region.create": "新建地区", "region.update": "修改地区", "checklist.load": "载入检查表",
  "auth.login": "登录", "auth.logout": "退出登录",
  "assignment.create": "新建检查任务", "assignment.bulk_create": "批量新建检查任务", "assignment.cancel": "取消检查任务",
  "draw.create": "双随机抽取", "inspector_relation.create": "登记回避关系", "inspector_relation.delete": "删除回避关系",
  "inspection.create": "新建检查", "inspection.update": "更新检查", "inspection.submit": "提交检查", "photo.upload": "上传照片",
  "rectification_notice.create": "生成整改通知书", "rectification_notice.issue": "签发整改通知书",
  "rectification_notice.close": "整改通知书办结", "rectification_notice.reopen": "整改通知书重新打开",
  "rectification_notice.escalate": "处理措施", "rectification_notice.plan_reinspection": "安排复查",
  "rectification_task.answer": "提交整改报告", "rectification_task.comment": "留言", "rectification_task.reject": "退回",
  "rectification_task.accept": "验收通过", "rectification_task.object": "申诉", "rectification_task.decide_objection": "处理申诉",
  "rectification_task.upload_photo": "上传整改照片", "rectification_task.overdue": "整改逾期",
  "demo.create": "生成演示数据",
  "inspection.merge": "合并检查记录", "photo.delete": "删除照片", "photo.prune": "清理未提交检查的照片",
  "rectification_notice.serve": "送达整改通知书",
  "physician.deduct": "医保医师记分", "physician.deduction_reversed": "撤销记分",
  "physician.update_points": "调整医保医师记分", "physician.suspend": "暂停医保医师资格",
  "physician.restore": "恢复医保医师资格", "physician.cancel": "取消医保医师资格",
  "physician.reinstate": "重新登记医保医师", "physician.status_withdrawn": "撤销资格处理",
  "holidays.load": "载入节假日", "tracking.tally_rebuild": "重算看板统计",
};

function changeText(e) {
  const show = (v) => (v === null || v === undefined ? "" : JSON.stringify(v));
  const before = show(e.before);
  const after = show(e.after);
  const text = before ? `${before} → ${after}` : after;
  return h("code.d-change", { title: text }, text.length > 160 ? `${text.slice(0, 157)}…` : text);
}

/** Render the 审计日志 tab. */
export async function render(el, ctx) {
  replace(el, loading());
  const q = ctx.query;
  const offset = Math.max(0, Number(q.offset) || 0);
  let page;
  let actions;
  try {
    [page, actions] = await Promise.all([
      get("/api/admin/audit", {
        entity_type: q.entity_type, entity_id: q.entity_id, username: q.username, action: q.action,
        date_from: q.date_from, date_to: q.date_to, limit: LIMIT, offset,
      }),
      get("/api/admin/audit/actions"),
    ]);
  } catch (error) {
    replace(el, h("div.d-toolbar", h("a.btn.secondary", { href: "#/desk/admin/audit" }, "清除筛选")), failure(error, () => render(el, ctx)));
    return;
  }
  const filters = h("form.d-filters#audit-filters",
    field("对象类型", h("select", { name: "entity_type" }, h("option", { value: "" }, "全部"),
      Object.entries(ENTITY_LABELS).map(([v, l]) => h("option", { value: v, selected: v === q.entity_type }, l)))),
    field("对象 ID", h("input", { name: "entity_id", value: q.entity_id || "", size: "14" })),
    field("用户", h("input", { name: "username", value: q.username || "", size: "10" })),
    field("操作", h("select", { name: "action" }, h("option", { value: "" }, "全部"),
      actions.map((a) => h("option", { value: a, selected: a === q.action }, ACTION_LABELS[a] ? `${ACTION_LABELS[a]}（${a}）` : a)))),
    field("开始日期", h("input", { name: "date_from", type: "date", value: q.date_from || "" })),
    field("结束日期", h("input", { name: "date_to", type: "date", value: q.date_to || "" })),
    h("button.btn.secondary", { type: "submit" }, "筛选"));
  filters.addEventListener("submit", (event) => { event.preventDefault(); ctx.setQuery({ ...formValues(filters), offset: "" }, { replace: false }); });
  filters.addEventListener("change", (event) => { if (event.target.tagName === "SELECT" || event.target.type === "date") ctx.setQuery({ ...formValues(filters), offset: "" }, { replace: false }); });
  const table = dataTable({
    id: "audit-table",
    rows: page.items,
    empty: "没有符合条件的记录",
    columns: [
      { key: "at", label: "时间", width: "10em", cls: "d-nowrap", render: (e) => dateTime(e.at) },
      { key: "actor_username", label: "用户", width: "8em", render: (e) => h("span", e.actor_username || "系统", e.actor_role ? h("span.d-hint", ` ${ROLE_LABELS[e.actor_role] || e.actor_role}`) : null) },
      { key: "action", label: "操作", width: "9em", render: (e) => h("span", { title: e.action }, ACTION_LABELS[e.action] || e.action) },
      { key: "entity", label: "对象", width: "12em", render: (e) => h("a", { href: `#/desk/admin/audit?entity_type=${encodeURIComponent(e.entity_type)}&entity_id=${encodeURIComponent(e.entity_id)}`, title: e.entity_id },
        `${ENTITY_LABELS[e.entity_type] || e.entity_type} ${e.entity_id.slice(0, 8)}`) },
      { key: "change", label: "变更内容", render: changeText },
    ],
  });
  replace(el, filters, table,
    pager({ offset, limit: LIMIT, total: page.total, go: (next) => ctx.setQuery({ ...q, offset: next || "" }, { replace: false }) }));
}
