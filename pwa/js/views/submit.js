// 提交: what is still missing (unanswered items, counts, required photos, signatures), each with a
// link to fix it; then 提交 → the record is locked and queued (待同步) and goes when online.
import { enqueue } from "../sync-queue.js";
import { isOnline } from "../connection.js";
import { preliminaryScore } from "../scoring.js";
import { h, replace } from "../ui/dom.js";
import { missingRecordPanel } from "../ui/missing-record.js";
import { icon } from "../ui/icons.js";
import { toast } from "../ui/toast.js";
import { confirm } from "../ui/dialog.js";
import { momentLabel, scoreLabel } from "../ui/format.js";
import {
  discardInspection, flushWrites, inspectionSummary, isEditable, itemHref, loadInspection,
  gradeBandClass, missingForSubmit, progressOf, scoringAnswers,
} from "./model.js";
import { stateChip } from "../ui/status.js";
import { knownNotices, noticeLine, refreshNotices } from "./notice-of.js";

const KIND_TITLES = {
  unanswered: "未作答的检查项",
  incomplete: "未填写完整的检查项",
  amount: "缺少违规金额",
  photo: "缺少佐证照片",
  signature: "签字",
};

export async function render(root, params, app) {
  const data = await loadInspection(params.inspectionId);
  if (!data || !data.content) {
    root.append(missingRecordPanel(data));
    return null;
  }
  const { inspection, content, findings, institution } = data;
  const editable = isEditable(inspection);
  const progress = progressOf(content, findings);
  let result = null;
  try {
    result = preliminaryScore(content, scoringAnswers(content, findings));
  } catch (error) {
    console.error(error);
  }
  const photos = data.photos.filter((p) => p.kind === "evidence").length;
  const signatures = (inspection.signatures || []).length;

  const head = h("div.page-head",
    h("div",
      h("a.back-link", { href: `#/sign/${inspection.id}` }, icon("chevronLeft", { size: 20 }), "返回签字确认"),
      h("h1", "提交检查"),
      h("p.muted", institution.name)));

  const facts = h("section.panel.submit-facts",
    h("div.summary-figures",
      h("div.figure", h("span.figure-label", "预评分"), h("b.num.figure-value#submit-score", result ? scoreLabel(result.total) : "—")),
      h("div.figure", h("span.figure-label", "预计等级"), h(`b.grade-badge.large.${gradeBandClass(content, result && result.grade)}`, (result && result.grade) || "—")),
      h("div.figure", h("span.figure-label", "已作答"), h("b.num.figure-value.small", `${progress.answered}/${progress.total}`)),
      h("div.figure", h("span.figure-label", "佐证照片"), h("b.num.figure-value.small", `${photos} 张`)),
      h("div.figure", h("span.figure-label", "签名"), h("b.num.figure-value.small", `${signatures} 个`))));

  if (!editable) {
    const server = inspection.server || {};
    const serverId = server.inspection_id || inspection.id;
    const noticeBox = h("div#submitted-notice");
    const paintNotice = async () => replace(noticeBox, noticeLine((await knownNotices())[serverId]));
    if (inspection.state === "synced") {
      await paintNotice();
      refreshNotices([{ id: serverId, institution_id: inspection.institution_id }])
        .then((changed) => (changed ? paintNotice() : null)).catch(() => {});
    }
    root.append(h("div.narrow", head,
      h("section.panel.submitted-state#submitted-state",
        h("div.state-line", stateChip(inspection.state),
          h("span.muted", `提交于 ${momentLabel(inspection.submitted_at)}`)),
        inspection.state === "rejected"
          ? h("div.callout.danger", icon("warning"), h("div", h("strong", "服务器退回，无法再提交"),
            h("p", (inspection.rejection && inspection.rejection.message) || "")))
          : inspection.state === "synced"
          ? h("div.official-score.big",
            h("span.muted", "正式得分"), h("b.num.score-value", scoreLabel(server.score && server.score.total)),
            server.score && server.score.grade ? h(`span.grade-badge.${gradeBandClass(content, server.score.grade)}`, server.score.grade) : null)
          : h("p", icon("lock", { size: 20 }), isOnline() ? " 已锁定，正在等待上传到服务器。" : " 已锁定并保存在本设备上，联网后自动上传。"),
        inspection.state === "synced" ? noticeBox : null,
        h("div.row-actions",
          h("a.btn.secondary#view-answers", { href: itemHref(inspection.id, content.sections[0].id) }, icon("file", { size: 20 }), "查看检查内容"),
          h("a.btn.secondary", { href: "#/sync" }, "查看同步"))),
      facts));
    return null;
  }

  const missing = missingForSubmit(data);
  const groups = new Map(["signature", "photo", "amount", "incomplete", "unanswered"].map((k) => [k, []]));
  for (const m of missing) groups.get(m.kind).push(m);

  const link = (m) => h("li", h("a.missing-link", { href: m.href, dataset: { kind: m.kind, item: m.item || "" } },
    m.section && m.kind !== "unanswered" ? h("span.fail-section", m.section) : null,
    h("span.missing-text", m.text),
    m.detail ? h("span.missing-detail", m.detail) : null,
    icon("chevronRight", { size: 18 })));

  // Unanswered items by section: the first few of each with links, the rest one tap away.
  function unansweredBySection(list) {
    const bySection = new Map();
    for (const m of list) {
      if (!bySection.has(m.section)) bySection.set(m.section, []);
      bySection.get(m.section).push(m);
    }
    return [...bySection.entries()].map(([title, items]) => h("div.missing-section",
      h("div.missing-section-head", h("span.fail-section", title), h("span.muted.small.num", `${items.length} 项未作答`)),
      h("ul.missing-items", items.slice(0, 3).map(link),
        items.length > 3 ? h("li", h("a.more-link", { href: items[3].href }, `还有 ${items.length - 3} 项，前往「${title}」`, icon("chevronRight", { size: 18 }))) : null)));
  }

  const missingPanel = missing.length
    ? h("section.panel.missing-panel#missing-list", { "aria-labelledby": "missing-title" },
      h("div.missing-head", icon("warning"), h("h2#missing-title", `还有 ${missing.length} 处需要完成`)),
      [...groups.entries()].filter(([, list]) => list.length).map(([kind, list]) => h("div.missing-group", { dataset: { kind } },
        h("h3", KIND_TITLES[kind], h("span.count.num", String(list.length))),
        kind === "unanswered" ? unansweredBySection(list) : h("ul.missing-items", list.map(link)))))
    : h("section.panel.ready-panel#ready-panel",
      h("div.missing-head.ok", icon("check"), h("h2", "检查内容已完整")),
      h("p", "所有检查项均已作答，要求的佐证照片和签字齐全。"),
      h("p.muted", "提交后本检查将锁定，不能再修改。", isOnline() ? "将立即上传到服务器。" : "当前离线：提交后保存在本设备上，联网后自动上传。"));

  const submitButton = h("button.btn.primary.large.block#submit-inspection", {
    type: "button", disabled: missing.length > 0,
    onclick: () => submit(),
  }, icon("send"), missing.length ? `还有 ${missing.length} 处未完成，暂不能提交` : "提交");

  async function submit() {
    const ok = await confirm({
      id: "confirm-submit",
      title: "提交本次检查？",
      body: h("div",
        h("p", `「${institution.name}」的检查提交后将锁定，不能再修改。`),
        h("p.muted", isOnline() ? "提交后立即上传到服务器，由服务器计算正式得分。" : "当前离线：记录会安全保存在本设备上（待同步），联网后自动上传。")),
      confirmText: "确认提交",
    });
    if (!ok) return;
    submitButton.disabled = true;
    try {
      await flushWrites();
      await enqueue(inspection.id);
      toast(isOnline() ? "已提交，正在上传" : "已提交，联网后自动上传（待同步）", { kind: "success", timeout: 5000 });
      app.navigate("#/");
    } catch (error) {
      submitButton.disabled = false;
      toast(`提交失败：${error.message}。记录仍保存在本设备上。`, { kind: "error", timeout: 8000 });
    }
  }

  const discard = h("button.btn.danger-outline#discard-draft", { type: "button", onclick: () => discardDraft() },
    icon("trash", { size: 20 }), "放弃本次检查");

  async function discardDraft() {
    const s = await inspectionSummary(inspection.id);
    const ok = await confirm({
      id: "confirm-discard", danger: true,
      title: "放弃本次检查？",
      body: h("div",
        h("p", `将从本设备上删除「${institution.name}」的这次检查：`),
        h("ul.loss-list",
          h("li", `${s.answers} 项检查结果（含说明）`),
          h("li", `${s.evidence} 张佐证照片`),
          h("li", `${s.signatures} 个签名`)),
        h("p.warn-text", "这些内容尚未提交到服务器，删除后无法恢复。")),
      confirmText: "删除这些记录", cancelText: "保留",
    });
    if (!ok) return;
    await discardInspection(inspection.id);
    toast("已放弃本次检查", { kind: "info" });
    app.navigate("#/");
  }

  root.append(h("div.narrow.submit-page",
    head,
    inspection.state === "rejected" && inspection.rejection
      ? h("div.callout.danger", icon("warning"), h("div", h("strong", "服务器退回的原因"), h("p", inspection.rejection.message))) : null,
    facts,
    missingPanel,
    h("div.page-actions.submit-actions", submitButton),
    h("div.danger-zone", h("p.muted.small", "不再需要这次检查（例如误开了任务）时可以放弃，未提交的内容会被删除。"), discard)));
  return null;
}
