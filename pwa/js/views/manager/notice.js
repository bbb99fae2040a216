// 整改通知书详情 (manager): header (number, institution, inspection, score, grade), the printable
// document, the objection window, and the 整改事项 as cards.
import { h, replace } from "../../ui/dom.js";
import { icon } from "../../ui/icons.js";
import { toast } from "../../ui/toast.js";
import { gradeClass, scoreLabel } from "../../ui/format.js";
import {
  backLink, call, homeOf, daysChip, errorText, fact, failurePanel, foundWords, fullDay, noticeStatusChip,
  openAuthed, photoStrip, taskStatusChip,
} from "./common.js";

export async function render(root, params, app) {
  let n;
  const home = homeOf(app.session);
  try {
    n = await call(`/notices/${params.noticeId}`);
  } catch (error) {
    replace(root, backLink(home.href, home.text), failurePanel(error, () => app.refresh(), app.session));
    return null;
  }
  const open = (url) => openAuthed(url).catch((error) => toast(`打开失败：${errorText(error)}`, { kind: "error", timeout: 6000 }));
  const done = n.task_count - n.open_count;

  replace(root,
    backLink(home.href, home.text),
    h("section.panel.m-notice-head",
      h("div.m-notice-title",
        h("div",
          h("p.muted.small", n.bureau),
          h("h1.m-number#m-notice-number", n.number || "（未编号）"),
          h("div.chips", noticeStatusChip(n), h("span.chip.neutral", `已完成 ${done}/${n.task_count} 项`))),
        h("div.m-score",
          h("span.muted.small", "检查得分"),
          h("b.num.score-value", scoreLabel(n.score_total)),
          n.grade ? h(`span.grade-badge.large.${gradeClass(n.grade)}`, n.grade) : null)),
      h("dl.facts.compact.m-facts",
        fact("被检查机构", `${n.institution.name}（${n.institution.code}）`),
        fact("检查日期", fullDay(n.inspection_date)),
        fact("检查类型", [n.inspection_kind, n.checklist_title].filter(Boolean).join(" · ")),
        fact("检查人员", (n.inspectors || []).join("、")),
        fact("下发日期", fullDay(n.issue_date)),
        fact("协议状态", n.institution.agreement_status !== "normal" ? n.institution.agreement_status_label : null)),
      h("div.m-row.m-doc-actions",
        h("button.btn.primary#m-open-document", { type: "button", onclick: () => open(n.document_url) }, icon("file"), "查看/打印通知书"),
        h("button.btn.secondary#m-open-pdf", { type: "button", onclick: () => open(n.pdf_url) }, icon("file"), "下载 PDF")),
      objectionBox(n, app.session)),
    pointsBox(n, open),
    n.escalations && n.escalations.length ? h("section.callout.danger.m-escalations", icon("warning"),
      h("div", h("strong", "已采取的处理措施"),
        h("ul", n.escalations.map((e) => h("li", `${e.label}（${fullDay(String(e.created_at).slice(0, 10))}）${e.note ? `：${e.note}` : ""}`))))) : null,
    h("section.m-tasks", { "aria-labelledby": "m-tasks-title" },
      h("div.group-head", h("h2#m-tasks-title", "整改事项"), h("span.count.num", String(n.tasks.length))),
      n.deadline_basis ? h("p.group-hint.muted", BASIS[n.deadline_basis] || n.deadline_basis) : null,
      h("div.m-task-list", n.tasks.map((t) => taskCard(t)))));
  return null;
}

/** 医保医师记分告知书: shown once it is known that the notice deducted physicians' points. */
function pointsBox(n, open) {
  const box = h("div.m-row.m-doc-actions.m-points-doc", { hidden: true });
  call(`/notices/${n.id}/deductions`).then((points) => {
    if (!points.physicians.length) return;
    const names = points.physicians.map((p) => `${p.name} ${p.points} 分`).join("、");
    box.append(
      h("p.small.muted", `本通知书对医保医师记分：${names}。医师有异议的，可在申诉期内通过本机构对相应整改事项提出申诉。`),
      h("button.btn.secondary#m-open-points", { type: "button", onclick: () => open(points.document_url) }, icon("file"), "医保医师记分告知书"));
    box.hidden = false;
  }).catch(() => {}); // offline or unavailable: the notice itself still shows
  return box;
}

const BASIS = {
  working: "整改期限按工作日计算（不含法定节假日，调休上班日计入），自下发次日起算。",
  calendar: "整改期限按自然日计算，期限最后一日为节假日的顺延至下一个工作日。",
};

function objectionBox(n, session) {
  if (!n.objection_deadline) return null;
  const manager = session && session.role === "manager";
  return n.objection_open
    ? h("div.callout.info.m-objection-window", icon("flag"),
      h("div", h("strong", `申诉期至 ${fullDay(n.objection_deadline)}`),
        h("p", manager
          ? "对检查发现有异议的，可在申诉期内在对应整改事项中提出申诉。申诉期间不停止整改。"
          : "机构医保负责人可在申诉期内对检查发现提出申诉。申诉期间不停止整改。")))
    : h("div.callout.warning.m-objection-window", icon("flag"),
      h("div", h("strong", `申诉期已于 ${fullDay(n.objection_deadline)} 结束`)));
}

function taskCard(t) {
  const counts = foundWords(t.found);
  return h("article.card.m-task-card", { dataset: { task: t.id, status: t.status } },
    h("div.card-top",
      h("div.chips", h("span.chip.type", `第 ${t.seq} 项`), taskStatusChip(t), t.objection ? h("span.chip.kind", `申诉${t.objection.status_label}`) : null),
      daysChip(t)),
    h("h3.card-title", t.item_text),
    t.section_title ? h("p.small.muted", t.section_title) : null,
    h("dl.facts.compact",
      fact("检查发现", [t.found && t.found.note, ...counts].filter(Boolean).join("；") || "不符合"),
      fact("判定标准", t.fail_when),
      fact("依据", t.basis),
      fact("整改要求", t.required_action),
      fact("整改期限", fullDay(t.deadline))),
    photoStrip(t.found && t.found.photos, "检查照片"),
    t.status === "open" && t.review_comment ? h("div.callout.danger.small", icon("warning"), h("div", h("strong", "退回意见"), h("p", t.review_comment))) : null,
    h("a.btn.secondary.block.m-open-task", { href: `#/m/task/${t.id}` },
      t.status === "open" ? "提交整改报告" : "查看详情与记录", icon("chevronRight", { size: 20 })));
}
