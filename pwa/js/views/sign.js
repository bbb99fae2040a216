// 签字确认: the summary (预评分, 预计等级, 不符合项), then the signatures of 被检查单位负责人 (or a
// recorded refusal, 拒绝签字及原因) and of each 检查人员, saved as PNG images as soon as drawn.
import { db } from "../db.js";
import { preliminaryScore } from "../scoring.js";
import { prepareSignature, sha256Hex } from "../photo-prep.js";
import { h, replace } from "../ui/dom.js";
import { missingRecordPanel } from "../ui/missing-record.js";
import { icon } from "../ui/icons.js";
import { toast } from "../ui/toast.js";
import { confirm } from "../ui/dialog.js";
import { signaturePad } from "../ui/signature.js";
import { imageUrl } from "../ui/authed.js";
import { amountLabel, normalAmount, scoreLabel, STATE_LABELS, sumAmounts } from "../ui/format.js";
import {
  gradeBandClass, isEditable, itemHref, loadInspection, lowestGrade, progressOf, removeSignature, saveSignature,
  scoringAnswers, updateInspection,
} from "./model.js";

export async function render(root, params, app) {
  const data = await loadInspection(params.inspectionId);
  if (!data || !data.content) {
    root.append(missingRecordPanel(data));
    return null;
  }
  const { content, findings, institution, assignment } = data;
  let inspection = data.inspection;
  const editable = isEditable(inspection);
  const pads = [];
  const urls = [];

  // --- summary -------------------------------------------------------------------------------
  let result = null;
  try {
    result = preliminaryScore(content, scoringAnswers(content, findings));
  } catch (error) {
    console.error(error);
  }
  const progress = progressOf(content, findings);
  const failedItems = [];
  content.sections.forEach((section) => section.items.forEach((item) => {
    const f = findings.get(item.id);
    if (f && f.result === "fail") failedItems.push({ section, item, f });
  }));
  const critical = new Set((result && result.critical_failures) || []);
  // 违规金额 of the failed monetary items, and their total added in fen (never a float).
  const amountOf = ({ item, f }) => (item.monetary ? normalAmount(f.amount) : null);
  const amounts = failedItems.map(amountOf).filter((a) => a !== null);
  const monetaryFailed = failedItems.filter(({ item }) => item.monetary).length;
  const failDetail = (item, f) => {
    const text = [
      critical.has(item.id) ? "否决项" : null,
      f.occurrences ? `发现 ${f.occurrences} 处` : null,
      f.sampled ? `抽查 ${f.sampled}${f.population != null ? `（总份数 ${f.population}）` : ""}，不符合 ${f.failed}` : null,
    ].filter(Boolean).join(" · ");
    const amount = item.monetary ? amountOf({ item, f }) : null;
    return h("span.fail-detail.num", text || null,
      item.monetary && text ? " · " : null,
      item.monetary ? h(`span.fail-amount${amount === null ? ".missing" : ""}`, { dataset: { amount: amount || "" } },
        amount !== null ? `违规金额 ${amountLabel(amount)}` : "违规金额未填写") : null);
  };

  const summary = h("section.panel.sign-summary", { "aria-labelledby": "summary-title" },
    h("h2#summary-title", "检查结果"),
    h("div.summary-figures",
      h("div.figure", h("span.figure-label", "预评分"), h("b.num.figure-value#sign-score", result ? scoreLabel(result.total) : "—")),
      h("div.figure", h("span.figure-label", "预计等级"),
        h(`b.grade-badge.large#sign-grade.${gradeBandClass(content, result && result.grade)}`, (result && result.grade) || "—")),
      h("div.figure", h("span.figure-label", "已作答"), h("b.num.figure-value.small", `${progress.answered}/${progress.total}`)),
      h("div.figure", h("span.figure-label", "不符合"), h("b.num.figure-value.small.fail-text", `${failedItems.length} 项`))),
    critical.size ? h("div.callout.danger", icon("warning"), h("p", `否决项不符合 ${critical.size} 项，等级按「${(result && result.grade) || lowestGrade(content)}」计。`)) : null,
    result && result.grade_reason && !critical.size ? h("p.muted.small", result.grade_reason) : null,
    h("p.muted.small", result && !result.complete
      ? `还有 ${progress.total - progress.answered} 项未作答：预评分只按已作答的 ${progress.answered} 项计算。正式得分以服务器为准。`
      : "预评分按本设备的记录计算，正式得分以服务器为准。"),
    failedItems.length
      ? h("div.fail-list-wrap",
        h("h3", "不符合项"),
        h("ol.fail-list#fail-list", failedItems.map(({ section, item, f }) => h("li",
          h("a", { href: itemHref(inspection.id, section.id, item.id) },
            h("span.fail-section", section.title),
            h("span.fail-text-body", item.text),
            failDetail(item, f),
            icon("chevronRight", { size: 18 }))))),
        monetaryFailed ? h("p.amount-total#amount-total", { dataset: { total: sumAmounts(amounts) } },
          h("span", "违规金额合计"), h("b.num", amountLabel(sumAmounts(amounts))),
          amounts.length < monetaryFailed ? h("span.muted.small", `（另有 ${monetaryFailed - amounts.length} 项未填写）`) : null) : null)
      : h("p.ok-text", icon("check", { size: 20 }), "没有不符合项"));

  // --- one signer ----------------------------------------------------------------------------

  function signatureOf(signer) {
    return (inspection.signatures || []).find((s) => s.signer === signer.signer
      && (signer.signer === "representative" || s.user_id === signer.user_id)) || null;
  }

  async function savedImage(photoId) {
    const photo = await db.photos.get(photoId);
    const local = photo && (photo.blob || photo.thumb);
    if (!local) {
      // Synced without a kept copy: the server's (needs the network).
      try { return await imageUrl(`/api/photos/${photoId}/thumbnail`); } catch (error) { return null; }
    }
    const url = URL.createObjectURL(local);
    urls.push(url);
    return url;
  }

  function signerBlock(signer, key) {
    const holder = h("div.sig-holder");
    const status = h("span.sig-status", { id: `sig-status-${key}` });
    const block = h("div.signer", { dataset: { signer: key } },
      h("div.signer-head", h("span.signer-name", signer.label), status),
      holder);

    const paintStatus = () => {
      const saved = signatureOf(signer);
      replace(status, saved ? [icon("check", { size: 18 }), "已签字并保存"] : "未签字");
      status.classList.toggle("ok", !!saved);
    };

    async function showSaved() {
      const saved = signatureOf(signer);
      const url = saved ? await savedImage(saved.photo_id) : null;
      if (!saved) return showPad();
      replace(holder,
        h("div.sig-saved", url ? h("img", { src: url, alt: `${signer.label}的签名` }) : h("span.muted", "签名已上传至服务器，联网后可查看")),
        editable ? h("div.sig-actions",
          h("button.btn.secondary", { type: "button", id: `sig-redo-${key}`, onclick: () => showPad(true) }, icon("pen", { size: 20 }), "重新签名")) : null);
      paintStatus();
    }

    function showPad(replacing = false) {
      if (!editable) {
        replace(holder, h("p.muted", "未签字"));
        paintStatus();
        return;
      }
      let savedHere = false;
      const pad = signaturePad({
        id: `sig-${key}`, label: `${signer.label}签名区`,
        onChange: async (p) => {
          if (p.isEmpty()) return;
          try {
            const prepared = await prepareSignature(p.canvas);
            const sha = await sha256Hex(prepared.blob);
            inspection = await saveSignature(inspection.id, { ...signer, name: signer.name() }, prepared, sha);
            savedHere = true;
            paintStatus();
            onSignaturesChanged();
          } catch (error) {
            toast(`签名未保存：${error.message}`, { kind: "error", timeout: 8000 });
          }
        },
      });
      pads.push(pad);
      const actions = h("div.sig-actions",
        h("button.btn.secondary", {
          type: "button", id: `sig-clear-${key}`,
          onclick: async () => {
            pad.clear();
            if (savedHere) {
              inspection = await removeSignature(inspection.id, signer);
              savedHere = false;
              paintStatus();
              onSignaturesChanged();
            }
          },
        }, icon("trash", { size: 20 }), "清除"),
        replacing ? h("button.btn.ghost", {
          type: "button",
          onclick: () => { pad.destroy(); showSaved(); },
        }, "保留原签名") : null);
      replace(holder, pad.element, actions);
      paintStatus();
    }

    block.refresh = paintStatus;
    if (signatureOf(signer)) showSaved(); else showPad();
    return block;
  }

  // --- representative ------------------------------------------------------------------------

  const repName = h("input#rep-name", {
    type: "text", maxlength: "64", autocomplete: "off", value: inspection.representative_name || "",
    placeholder: "签字负责人的姓名", disabled: !editable,
  });
  repName.addEventListener("input", async () => {
    try {
      inspection = await updateInspection(inspection.id, { representative_name: repName.value.trim() });
    } catch (error) {
      toast(`保存失败：${error.message}`, { kind: "error" });
    }
  });
  const representative = { signer: "representative", user_id: null, label: "被检查单位负责人签字", name: () => repName.value.trim() };
  const repHolder = h("div.rep-holder", signerBlock(representative, "representative"));

  let reasonMemory = inspection.signature_refused_reason || "";
  const refused = h("input#rep-refused", { type: "checkbox", checked: !!reasonMemory, disabled: !editable });
  const reason = h("textarea#refuse-reason", { rows: "2", maxlength: "500", placeholder: "记录拒绝签字的原因和现场情况", disabled: !editable });
  reason.value = reasonMemory;
  const reasonField = h("div.field.refuse-field", { hidden: !reasonMemory },
    h("label", { for: "refuse-reason" }, "拒绝签字原因"), reason);
  reason.addEventListener("input", async () => {
    reasonMemory = reason.value;
    inspection = await updateInspection(inspection.id, { signature_refused_reason: reason.value.trim() });
    onSignaturesChanged();
  });
  refused.addEventListener("change", async () => {
    if (refused.checked) {
      if (signatureOf(representative)) {
        const ok = await confirm({
          id: "confirm-refuse", title: "改为拒绝签字？",
          body: "负责人已经签过字。记录为拒绝签字将删除已保存的负责人签名。", confirmText: "删除签名并记录拒绝", danger: true,
        });
        if (!ok) { refused.checked = false; return; }
        inspection = await removeSignature(inspection.id, representative);
      }
      reasonField.hidden = false;
      repHolder.hidden = true;
      reason.focus();
      if (reasonMemory.trim()) inspection = await updateInspection(inspection.id, { signature_refused_reason: reasonMemory.trim() });
    } else {
      reasonField.hidden = true;
      inspection = await updateInspection(inspection.id, { signature_refused_reason: "" });
      repHolder.replaceChildren(signerBlock(representative, "representative"));
      repHolder.hidden = false;
    }
    onSignaturesChanged();
  });
  repHolder.hidden = !!reasonMemory;

  const repSection = h("section.panel.sign-section", { "aria-labelledby": "rep-title" },
    h("h2#rep-title", "被检查单位负责人"),
    h("div.field", h("label", { for: "rep-name" }, "负责人姓名"), repName),
    repHolder,
    h("label.check-row", refused, h("span", "负责人拒绝签字（记录拒绝签字及原因）")),
    reasonField);

  // --- inspectors ----------------------------------------------------------------------------

  const team = (assignment && assignment.inspectors) || [];
  const me = app.session || {};
  const ordered = [...team].sort((a, b) => (a.id === me.user_id ? -1 : b.id === me.user_id ? 1 : 0));
  const inspectorBlocks = ordered.map((p) => signerBlock({
    signer: "inspector", user_id: p.id, label: `检查人员：${p.display_name}`, name: () => p.display_name,
  }, `inspector-${p.username}`));
  const inspectorSection = h("section.panel.sign-section", { "aria-labelledby": "insp-title" },
    h("h2#insp-title", "检查人员签字"),
    h("p.muted.small", "须至少两名检查人员分别签字（《医疗保障基金使用监督管理条例》第二十九条：检查人员不得少于 2 人）。"),
    inspectorBlocks.length ? inspectorBlocks : h("p.muted", "本设备上没有该任务的检查人员名单。"));

  // --- footer --------------------------------------------------------------------------------
  const footerNote = h("p.muted.small.sign-footer-note");
  function onSignaturesChanged() {
    const signatures = inspection.signatures || [];
    const repOk = signatures.some((s) => s.signer === "representative") || !!(inspection.signature_refused_reason || "").trim();
    const inspOk = new Set(signatures.filter((s) => s.signer === "inspector").map((s) => s.user_id)).size >= 2;
    footerNote.textContent = repOk && inspOk ? "签字已齐全，所有签名已保存在本设备上。" : "签名会在落笔后自动保存。";
  }
  onSignaturesChanged();

  const head = h("div.page-head",
    h("div",
      h("a.back-link", { href: itemHref(inspection.id, content.sections[content.sections.length - 1].id) }, icon("chevronLeft", { size: 20 }), "返回检查表"),
      h("h1", "签字确认"),
      h("p.muted", institution.name)),
    !editable ? h("span.chip", STATE_LABELS[inspection.state] || inspection.state) : null);

  root.append(h("div.narrow.sign-page",
    head, summary, repSection, inspectorSection,
    h("div.page-actions",
      footerNote,
      h("a.btn.primary.large#to-submit", { href: `#/submit/${inspection.id}` }, editable ? "下一步：检查并提交" : "查看提交情况", icon("chevronRight")))));

  return {
    // A signature drawn just before leaving is saved before the next screen reads it.
    async beforeLeave() {
      await Promise.all(pads.map((pad) => Promise.resolve(pad.flush()).catch(() => {})));
    },
    cleanup() {
      for (const pad of pads) pad.destroy();
      for (const url of urls) URL.revokeObjectURL(url);
    },
  };
}
