// 逾期整改: overdue tasks by days overdue; per notice the escalation ladder (处理措施) with each
// step's rule reference, recording a step (date, document number, note), and 安排复查.
import { h, replace } from "../../../ui/dom.js";
import { icon } from "../../../ui/icons.js";
import { AGREEMENT_LABELS } from "../../../ui/format.js";
import { get, post, errorText } from "../common/http.js";
import { confirmDialog, failure, field, formMessage, pageHead } from "../common/page.js";
import { dataTable } from "../common/table.js";
import { deskHash } from "../common/url.js";
import { chinaToday, dayText, documentButton, institutionText, momentText, pill } from "./common.js";

export async function render(el, ctx) {
  ctx.title("逾期整改");
  let tasks;
  let ladder;
  try {
    [tasks, ladder] = await Promise.all([get("/api/rectification/overdue"), get("/api/rectification/escalation-ladder")]);
  } catch (error) {
    replace(el, failure(error, () => ctx.navigate(location.hash)));
    return null;
  }
  let selected = ctx.query.notice || (tasks[0] && tasks[0].notice_id) || null;
  const tableHolder = h("div.d-overdue-list");
  const panel = h("section.d-overdue-panel#d-notice-panel", { "aria-live": "polite" });
  replace(el,
    pageHead("逾期整改", `共 ${tasks.length} 个逾期事项，按逾期天数排列。选中一份通知书，按处理措施阶梯采取措施或安排复查。`),
    h("div.d-overdue", tableHolder, panel));

  function drawTable() {
    replace(tableHolder, dataTable({
      id: "d-overdue-table",
      rows: tasks,
      rowKey: (t) => t.task_id,
      selected: tasks.find((t) => t.notice_id === selected)?.task_id ?? null,
      empty: "没有逾期的整改事项。",
      onRow: (t) => choose(t.notice_id),
      columns: [
        { key: "days_overdue", label: "逾期天数", num: true, width: "6em", render: (t) => h("strong.d-late", `${t.days_overdue} 天`) },
        { key: "institution", label: "机构 / 通知书", render: (t) => h("div.d-two-lines", h("strong", t.institution.name), h("span.d-hint.d-nowrap", `${t.notice_number} 第 ${t.seq} 项`)) },
        { key: "item_text", label: "整改事项", cls: "d-wrap" },
        { key: "deadline", label: "整改期限", cls: "d-nowrap", render: (t) => dayText(t.deadline) },
        { key: "escalations", label: "已采取措施", render: (t) => (t.escalations.length ? t.escalations.join("、") : "—") },
      ],
    }));
  }

  function choose(noticeId) {
    selected = noticeId;
    ctx.replaceUrl(deskHash("overdue", { notice: noticeId }));
    drawTable();
    drawPanel();
  }

  async function reload() {
    tasks = await get("/api/rectification/overdue");
    drawTable();
    ctx.refreshCounts();
    await drawPanel();
  }

  async function drawPanel() {
    if (!selected) { replace(panel, h("div.panel.empty", h("p", "没有逾期的整改事项。"))); return; }
    replace(panel, h("div.d-loading", "正在加载…"));
    let notice;
    try {
      notice = await get(`/api/rectification/notices/${selected}`);
    } catch (error) {
      replace(panel, failure(error, drawPanel));
      return;
    }
    const pharmacy = notice.institution.type === "pharmacy";
    const done = new Map();
    for (const e of notice.escalations) { if (!done.has(e.step)) done.set(e.step, []); done.get(e.step).push(e); }
    const agreement = notice.institution.agreement_status;
    replace(panel,
      h("section.d-card",
        h("div.d-card-head",
          h("h2", notice.number),
          h("div.d-actions", documentButton(notice), h("a.btn.secondary.small", { href: deskHash(["notices", notice.id]) }, "通知书详情"))),
        h("dl.d-kv",
          h("div", h("dt", "机构"), h("dd", institutionText(notice.institution))),
          h("div", h("dt", "协议状态"), h("dd", pill(AGREEMENT_LABELS[agreement] || agreement, agreement === "normal" ? "ok" : "bad"))),
          h("div", h("dt", "逾期事项"), h("dd", `${notice.overdue_count} 项（共 ${notice.task_count} 项，未办结 ${notice.open_count} 项）`)),
          h("div", h("dt", "签发日期"), h("dd", dayText(notice.issue_date))))),
      h("section.d-card#d-ladder",
        h("h2", "处理措施"),
        h("ol.d-ladder", ladder.map((step) => {
          const taken = done.get(step.step) || [];
          return h("li", { class: taken.length ? "taken" : null, dataset: { step: step.step } },
            h("div.d-ladder-head", h("strong", step.label), taken.length ? pill("已采取", "warn") : null,
              step.agreement_status ? pill(`协议${AGREEMENT_LABELS[step.agreement_status]}`, "bad") : null),
            h("p.d-hint", `依据：${pharmacy ? step.pharmacy_rule : step.medical_rule}`),
            taken.map((e) => h("p.d-ladder-taken", `${dayText(e.decided_on)} · ${e.document_no || "无文书编号"}${e.amount ? ` · ${e.amount} 元` : ""}${e.note ? ` · ${e.note}` : ""}`)));
        })),
        agreement === "terminated" ? h("p.d-msg.error", "该机构的医保协议已解除，不能再采取处理措施。") : stepForm(notice, pharmacy)),
      reinspectionCard(notice));
  }

  function stepForm(notice, pharmacy) {
    const step = h("select#d-step", { name: "step", required: true },
      ladder.map((s) => h("option", { value: s.step }, s.label)));
    const day = h("input#d-step-date", { type: "date", name: "decided_on", value: chinaToday(), max: chinaToday(), required: true });
    const documentNo = h("input#d-step-document", { type: "text", name: "document_no", maxlength: "64", required: true, placeholder: "如：威医保约〔2026〕3号" });
    const note = h("textarea#d-step-note", { name: "note", rows: "2", maxlength: "2000", required: true, placeholder: "决定内容（机构可见）" });
    const amount = h("input#d-step-amount", { type: "number", name: "amount", min: "0.01", step: "0.01", inputmode: "decimal" });
    const amountField = field("金额（元）", amount);
    const rule = h("p.d-hint#d-step-rule");
    const message = h("p.d-msg", { hidden: true });
    const sync = () => {
      const chosen = ladder.find((s) => s.step === step.value);
      amountField.hidden = !chosen.takes_amount;
      rule.textContent = `依据：${pharmacy ? chosen.pharmacy_rule : chosen.medical_rule}`;
    };
    step.addEventListener("change", sync);
    const submit = h("button.btn.primary#d-step-submit", { type: "submit" }, "记录处理措施");
    const form = h("form.d-inline-form#d-step-form", {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const chosen = ladder.find((s) => s.step === step.value);
        const missing = [[day, "决定日期"], [documentNo, "文书编号"], [note, "说明"]].filter(([c]) => !c.value.trim());
        if (missing.length) {
          formMessage(message, `请填写${missing.map(([, l]) => l).join("、")}。`);
          missing[0][0].focus();
          return;
        }
        if (chosen.agreement_status && !(await confirmDialog({
          title: `确认${chosen.label}？`,
          body: `${notice.institution.name}的医保协议状态将改为「${AGREEMENT_LABELS[chosen.agreement_status]}」。`,
          confirmText: chosen.label, danger: true, id: "d-step-confirm",
        }))) return;
        submit.disabled = true;
        try {
          await post(`/api/rectification/notices/${notice.id}/escalations`, {
            step: chosen.step,
            decided_on: day.value,
            document_no: documentNo.value.trim(),
            note: note.value.trim(),
            amount: chosen.takes_amount && amount.value ? amount.value : null,
          });
          await reload();
          const done = document.querySelector("#d-step-done");
          if (done) formMessage(done, `已记录「${chosen.label}」。`, "ok");
        } catch (error) {
          formMessage(message, errorText(error));
          submit.disabled = false;
        }
      },
    },
      h("h3", "记录处理措施"),
      h("div.d-grid", field("措施", step), field("决定日期", day), field("文书编号", documentNo), amountField),
      rule,
      field("说明", note),
      message,
      submit);
    sync();
    return h("div", h("p.d-msg.ok#d-step-done", { hidden: true }), form);
  }

  function reinspectionCard(notice) {
    const card = h("section.d-card#d-reinspection", h("h2", "安排复查"));
    if (notice.reinspections.length) {
      card.append(h("ul.d-plain", notice.reinspections.map((r) =>
        h("li", `${dayText(r.window_start)} – ${dayText(r.window_end)} · ${r.status === "done" ? "已完成" : "已安排"}（${momentText(r.created_at)}）`))));
    }
    const start = h("input#d-re-start", { type: "date", name: "window_start", value: chinaToday(), required: true });
    const end = h("input#d-re-end", { type: "date", name: "window_end", required: true });
    const people = h("div.d-checks#d-re-inspectors", h("span.d-hint", "正在加载检查人员…"));
    const message = h("p.d-msg", { hidden: true });
    const submit = h("button.btn.secondary#d-re-submit", { type: "submit" }, icon("calendar", { size: 18 }), "安排复查");
    get("/api/planning/options").then((options) => {
      const active = (options.inspectors || []).filter((i) => i.is_active);
      replace(people, active.length ? active.map((i) => h("label.d-check",
        h("input", { type: "checkbox", name: "inspectors", value: i.username }),
        `${i.display_name || i.username}（${i.region_name}）`)) : h("span.d-hint", "没有可安排的检查人员。"));
    }).catch((error) => replace(people, h("span.d-msg.error", errorText(error))));
    card.append(h("form.d-inline-form#d-re-form", {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const chosen = Array.from(people.querySelectorAll("input:checked")).map((c) => c.value);
        if (!start.value || !end.value) { formMessage(message, "请填写复查时间。"); return; }
        if (chosen.length < 2) { formMessage(message, "执法检查人员不得少于两人，请至少选择两名检查人员。"); return; }
        submit.disabled = true;
        try {
          await post(`/api/rectification/notices/${notice.id}/reinspection`, { window_start: start.value, window_end: end.value, inspectors: chosen });
          await drawPanel();
          const again = document.querySelector("#d-reinspection");
          if (again) again.prepend(h("p.d-msg.ok", "已安排复查。"));
        } catch (error) {
          formMessage(message, errorText(error));
          submit.disabled = false;
        }
      },
    },
      h("div.d-grid", field("开始日期", start), field("结束日期", end)),
      h("div.d-field", h("span.d-field-label", "检查人员（至少两人）"), people),
      message,
      submit));
    return card;
  }

  drawTable();
  await drawPanel();
  return null;
}
