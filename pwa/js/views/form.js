// 检查表单: one section at a time (a stepper: left rail in landscape, tabs in portrait); per item
// 符合 / 不符合 / 不适用, the counts its mode asks for, 说明, 佐证照片, 涉及医师. Every change is
// saved at once; only the card that changed is redrawn, so a 150-item checklist stays quick.
import { on } from "../events.js";
import { preliminaryScore } from "../scoring.js";
import { prepareImage, sha256Hex } from "../photo-prep.js";
import { h, replace } from "../ui/dom.js";
import { missingRecordPanel } from "../ui/missing-record.js";
import { icon } from "../ui/icons.js";
import { toast } from "../ui/toast.js";
import { confirm, choose } from "../ui/dialog.js";
import { numberStepper } from "../ui/stepper.js";
import { imageUrl } from "../ui/authed.js";
import { RESULT_LABELS, STATE_LABELS, amountLabel, normalAmount, scoreLabel } from "../ui/format.js";
import {
  AMOUNT_HINT, addEvidencePhoto, amountProblem, answerStatus, deleteEvidencePhoto, gradeBandClass, isEditable, itemHref, loadInspection,
  lowestGrade, minSampled, photoRequirement, progressOf, saveFinding, scoringAnswers,
} from "./model.js";

const RESULT_ICONS = { pass: "check", fail: "cross", na: "na" };

/** The physicians a local finding names (older drafts kept one in ``physician_id``). */
function namedPhysicians(f) {
  if (Array.isArray(f.physician_ids) && f.physician_ids.length) return [...f.physician_ids];
  return f.physician_id ? [f.physician_id] : [];
}

export async function render(root, params, app) {
  const data = await loadInspection(params.inspectionId);
  if (!data || !data.content) {
    root.append(missingRecordPanel(data));
    return null;
  }
  const { inspection, content, findings, institution } = data;
  const sections = content.sections;
  const editable = isEditable(inspection);

  // Which section: the one asked for, else the first with work left, else the first.
  let section = sections.find((s) => s.id === params.sectionId);
  if (!section) {
    const progress = progressOf(content, findings);
    section = sections.find((s) => progress.sections[s.id].answered < progress.sections[s.id].total) || sections[0];
    history.replaceState(null, "", `/${itemHref(inspection.id, section.id)}`);
  }
  const sectionIndex = sections.indexOf(section);
  const photosById = new Map(data.photos.map((p) => [p.id, p]));
  const objectUrls = new Map();
  const remembered = new Map(); // counts/physician kept while the result is toggled away and back
  const stops = [];

  // --- the stepper of sections -----------------------------------------------------------------

  const railItems = new Map();
  const rail = h("nav.section-rail", { "aria-label": "检查类别" },
    h("ol.rail-list", sections.map((s, i) => {
      const link = h("a.rail-item", {
        href: itemHref(inspection.id, s.id), dataset: { section: s.id },
        "aria-current": s === section ? "step" : null,
      },
      h("span.rail-index.num", String(i + 1)),
      h("span.rail-body",
        h("span.rail-title", s.title),
        h("span.rail-meta")),
      h("span.rail-bar", h("span")));
      railItems.set(s.id, link);
      return h("li", link);
    })));

  function paintRail(sectionId = null) {
    const progress = progressOf(content, findings);
    for (const s of sections) {
      if (sectionId && s.id !== sectionId) continue;
      const p = progress.sections[s.id];
      const link = railItems.get(s.id);
      const done = p.answered === p.total;
      link.dataset.done = done ? "1" : "0";
      link.classList.toggle("has-fail", p.failed > 0);
      replace(link.querySelector(".rail-meta"),
        h("span.num.rail-count", done ? [icon("check", { size: 14 }), "已完成"] : `${p.answered}/${p.total}`),
        p.failed ? h("span.rail-fail", icon("cross", { size: 14 }), h("span.num", `不符合 ${p.failed}`)) : null);
      link.querySelector(".rail-bar span").style.width = `${p.total ? (p.answered * 100) / p.total : 0}%`;
      link.setAttribute("aria-label", `${s.title}：已答 ${p.answered}/${p.total}${p.failed ? `，不符合 ${p.failed} 项` : ""}`);
    }
    paintOverall(progress);
  }

  const overall = h("div.form-overall");
  function paintOverall(progress) {
    replace(overall,
      h("span", "总进度 ", h("b.num", `${progress.answered}/${progress.total}`)),
      h("span.progress.slim", h("span", { style: `width:${progress.percent}%` })),
      h("b.num", `${progress.percent}%`));
  }

  // --- the score bar -------------------------------------------------------------------------

  const scoreBar = h("div.score-bar#score-bar", { role: "status", "aria-live": "polite" });
  // The score is computed after the tap has been painted (never in the way of the answer
  // showing), and once for a burst of taps.
  let scoreFrame = 0;
  function paintScore() {
    clearTimeout(scoreFrame);
    scoreBar.dataset.pending = "1";
    scoreFrame = setTimeout(() => {
      delete scoreBar.dataset.pending;
      let result = null;
      try {
        result = preliminaryScore(content, scoringAnswers(content, findings));
      } catch (error) {
        console.error(error);
      }
      const critical = result ? result.critical_failures || [] : [];
      const criticalNames = critical.map((id) => itemText(id)).filter(Boolean);
      replace(scoreBar,
        h("div.score-main",
          h("span.score-label", "预评分"),
          h("b.num.score-value#prelim-score", result ? scoreLabel(result.total) : "—"),
          h("span.score-label", "预计等级"),
          h(`b.grade-badge#prelim-grade.${gradeBandClass(content, result && result.grade)}`, (result && result.grade) || "—")),
        critical.length
          ? h("div.score-veto#veto-warning", { title: criticalNames.join("；") }, icon("warning", { size: 20 }),
            h("span.veto-count", `否决项不符合 ${critical.length} 项`),
            h("b.veto-names", `：${criticalNames.join("；")}`),
            h("span.veto-tail", `，等级按「${result.grade || lowestGrade(content)}」计`))
          : h("div.score-note.muted", result && !result.complete ? `按已作答的 ${result.answered} 项计算，仅供参考` : "仅供参考，以服务器计算的正式得分为准"),
        h("a.btn.secondary.score-next", { href: `#/submit/${inspection.id}` }, editable ? "检查提交" : "查看提交"));
    }, 40);
  }

  function itemText(id) {
    for (const s of sections) for (const it of s.items) if (it.id === id) return it.text.length > 24 ? `${it.text.slice(0, 24)}…` : it.text;
    return id;
  }

  // --- saving --------------------------------------------------------------------------------

  function current(item) {
    return findings.get(item.id) || { item: item.id, result: null, occurrences: null, sampled: null, failed: null, population: null, note: "", physician_id: null, physician_ids: [], photo_ids: [], amount: null };
  }

  function commit(item, patch, card) {
    const next = { ...current(item), ...patch };
    findings.set(item.id, next);
    saveFinding(inspection.id, item.id, patch)
      .then((stored) => {
        const mem = findings.get(item.id);
        if (mem) { mem.id = stored.id; mem.photo_ids = stored.photo_ids; }
      })
      .catch((error) => toast(`保存失败：${error.message}`, { kind: "error", timeout: 8000 }));
    if (card) card.update();
    paintRail(section.id);
    paintScore();
  }

  function setResult(item, result, card) {
    const f = current(item);
    if (f.result === result) return;
    const memory = remembered.get(item.id) || {};
    const patch = { result };
    if (item.mode === "deduct") {
      if (result === "fail") patch.occurrences = f.occurrences ?? memory.occurrences ?? 1;
      else if (f.occurrences !== null && f.occurrences !== undefined) {
        memory.occurrences = f.occurrences;
        patch.occurrences = null;
      }
    }
    if (item.mode === "sample") {
      if (result === "na") {
        if (f.sampled !== null || f.failed !== null) { memory.sampled = f.sampled; memory.failed = f.failed; }
        if (f.population != null) memory.population = f.population;
        patch.sampled = null;
        patch.failed = null;
        patch.population = null; // N/A takes no counts
      } else {
        patch.sampled = f.sampled ?? memory.sampled ?? null;
        patch.population = f.population ?? memory.population ?? null;
        if (result === "pass") {
          if (f.failed > 0) memory.failed = f.failed;
          patch.failed = 0;
        } else {
          patch.failed = f.failed > 0 ? f.failed : (memory.failed > 0 ? memory.failed : null);
        }
      }
    }
    if (item.physician_points > 0) {
      // Physicians may be named only on a failed item (the server refuses them otherwise).
      const named = namedPhysicians(f);
      if (result !== "fail" && named.length) {
        memory.physician_ids = named;
        Object.assign(patch, { physician_id: null, physician_ids: [] });
      } else if (result === "fail" && !named.length && memory.physician_ids?.length) {
        Object.assign(patch, { physician_id: null, physician_ids: memory.physician_ids });
      }
    }
    if (item.monetary) {
      // 违规金额 belongs to a failed finding only (the server refuses it on any other): taken off
      // when the result changes away from 不符合, given back if it returns.
      if (result !== "fail" && f.amount != null && f.amount !== "") {
        memory.amount = f.amount;
        patch.amount = null;
      } else if (result === "fail" && (f.amount == null || f.amount === "") && memory.amount) {
        patch.amount = memory.amount;
      }
    }
    remembered.set(item.id, memory);
    commit(item, patch, card);
    if (item.mode === "sample" && result !== "na" && card) {
      const field = card.querySelector(patch.sampled === null ? ".sample-sampled" : (result === "fail" && patch.failed === null ? ".sample-failed" : null));
      if (field) field.focus({ preventScroll: false });
    }
  }

  // --- photos --------------------------------------------------------------------------------

  /** The local picture: the photo itself while unsynced, its kept thumbnail after sync. */
  function photoUrl(photo) {
    if (!objectUrls.has(photo.id)) objectUrls.set(photo.id, URL.createObjectURL(photo.blob || photo.thumb));
    return objectUrls.get(photo.id);
  }

  async function takePhoto(item, file, card, replaceId = null) {
    if (!file) return;
    card.classList.add("photo-busy");
    try {
      const prepared = await prepareImage(file);
      const sha = await sha256Hex(prepared.blob);
      const { photo, finding } = await addEvidencePhoto(data, item.id, prepared, sha, replaceId);
      photosById.set(photo.id, photo);
      if (replaceId) {
        photosById.delete(replaceId);
        const url = objectUrls.get(replaceId);
        if (url) { URL.revokeObjectURL(url); objectUrls.delete(replaceId); }
      }
      findings.set(item.id, { ...current(item), photo_ids: finding.photo_ids, id: finding.id });
      card.update();
      paintRail(section.id);
      toast(replaceId ? "已重拍并保存" : "照片已保存", { kind: "success", timeout: 1800 });
    } catch (error) {
      toast(`照片未保存：${error.message}`, { kind: "error", timeout: 8000 });
    } finally {
      card.classList.remove("photo-busy");
    }
  }

  async function removePhoto(item, photoId, card, index) {
    const ok = await confirm({
      id: "confirm-delete-photo",
      title: "删除这张佐证照片？",
      body: h("div",
        h("p", `将删除「${item.text.length > 30 ? `${item.text.slice(0, 30)}…` : item.text}」的第 ${index + 1} 张佐证照片，删除后无法恢复。`),
        photoRequirement(item, current(item)).required && current(item).photo_ids.length === 1
          ? h("p.warn-text", "本项要求佐证照片：删除后需重新拍摄才能提交。") : null),
      confirmText: "删除照片", danger: true,
    });
    if (!ok) return;
    try {
      const finding = await deleteEvidencePhoto(inspection.id, item.id, photoId);
      photosById.delete(photoId);
      const url = objectUrls.get(photoId);
      if (url) { URL.revokeObjectURL(url); objectUrls.delete(photoId); }
      findings.set(item.id, { ...current(item), photo_ids: finding ? finding.photo_ids : [] });
      card.update();
      paintRail(section.id);
      toast("照片已删除", { kind: "info", timeout: 1800 });
    } catch (error) {
      toast(`删除失败：${error.message}`, { kind: "error" });
    }
  }

  function viewPhoto(item, photo) {
    const img = h("img", { alt: `「${item.text}」的佐证照片` });
    const caption = h("figcaption.muted", photo.blob
      ? `${photo.width}×${photo.height} · ${Math.round((photo.size || 0) / 1024)} KB` : "已上传到服务器");
    if (photo.blob) img.src = photoUrl(photo);
    else {
      // Synced: the full photo is on the server; the kept thumbnail meanwhile (and offline).
      if (photo.thumb) img.src = photoUrl(photo);
      imageUrl(`/api/photos/${photo.id}`).then((src) => { img.src = src; })
        .catch(() => { caption.textContent = "已上传到服务器；联网后可查看原图"; });
    }
    choose({
      title: "佐证照片",
      body: h("figure.photo-view", img, caption),
      actions: [{ label: "关闭", value: true, kind: "secondary" }],
    });
  }

  /** A synced photo with no local copy: the server's thumbnail (with the token). */
  function serverThumb(item, photoId, i) {
    const img = h("img", { alt: "", loading: "lazy" });
    const box = h("div.thumb", { dataset: { photo: photoId, source: "server" } },
      h("button.thumb-img", { type: "button", "aria-label": `查看第 ${i + 1} 张照片`, onclick: () => viewPhoto(item, { id: photoId }) }, img));
    imageUrl(`/api/photos/${photoId}/thumbnail`).then((src) => { img.src = src; })
      .catch(() => { box.className = "thumb missing"; replace(box, icon("check"), h("span", "已上传，联网后可查看")); });
    return box;
  }

  // --- an item card --------------------------------------------------------------------------

  function itemCard(item, index) {
    const card = h("article.item-card", {
      id: `item-${item.id}`, dataset: { item: item.id, mode: item.mode }, "aria-labelledby": `item-${item.id}-text`,
    });
    const number = `${sectionIndex + 1}.${index + 1}`;

    const tags = [
      h("span.tag.points.num", `${item.points} 分`),
      item.critical ? h("span.tag.critical", icon("flag", { size: 14 }), "否决项") : null,
      item.mode === "deduct" ? h("span.tag", `每处扣 ${item.per_occurrence} 分`) : null,
      item.mode === "sample" ? h("span.tag", minSampled(item) ? `抽查 · 不少于 ${minSampled(item)} 份` : "抽查") : null,
      item.evidence === "photo_always" ? h("span.tag.photo", icon("camera", { size: 14 }), "须拍照")
        : item.evidence === "photo_on_fail" ? h("span.tag.photo", icon("camera", { size: 14 }), "不符合须拍照") : null,
    ];

    // Folding details: 判定标准, 检查方法, 依据.
    const panels = h("div.disclosure-panels");
    const disclosures = [
      ["判定标准", item.fail_when, "fail-when"],
      ["检查方法", item.guidance, "guidance"],
      ["依据", item.basis, "basis"],
    ].filter(([, text]) => text).map(([label, text, key]) => {
      const panel = h(`div.disclosure-panel.${key}`, { id: `item-${item.id}-${key}`, hidden: true },
        h("span.disclosure-label", label), h("p", text));
      panels.append(panel);
      const button = h("button.disclosure", {
        type: "button", "aria-expanded": "false", "aria-controls": panel.id, dataset: { key },
        onclick: () => {
          const open = button.getAttribute("aria-expanded") !== "true";
          button.setAttribute("aria-expanded", String(open));
          panel.hidden = !open;
        },
      }, label, icon("chevronDown", { size: 16 }));
      return button;
    });

    const resultButtons = ["pass", "fail", "na"].map((result) => h(`button.result-btn.result-${result}`, {
      type: "button", dataset: { result }, "aria-pressed": "false", disabled: !editable,
      onclick: () => setResult(item, result, card),
    }, icon(RESULT_ICONS[result], { size: 26 }), h("span", RESULT_LABELS[result])));

    const extra = h("div.item-extra");
    const statusLine = h("div.item-status", { "aria-live": "polite" });

    card.append(
      h("header.item-head",
        h("span.item-no.num", number),
        h("div.item-main",
          h("h3.item-text", { id: `item-${item.id}-text` }, item.text),
          h("div.item-tags", tags))),
      disclosures.length ? h("div.disclosures", disclosures) : null,
      panels,
      h("div.result-group", { role: "group", "aria-label": "检查结果" }, resultButtons),
      statusLine,
      extra);

    let shape = null;
    let openExtras = new Set();

    card.update = () => {
      const f = current(item);
      card.dataset.result = f.result || "none";
      for (const b of resultButtons) b.setAttribute("aria-pressed", String(b.dataset.result === f.result));
      const status = answerStatus(item, f);
      card.dataset.status = status.state;
      const photos = photoRequirement(item, f);
      const needPhoto = photos.required && photos.have === 0;
      replace(statusLine,
        status.state === "incomplete" ? h("span.warn-text", icon("warning", { size: 18 }), status.problem) : null,
        needPhoto ? h("span.warn-text.photo-needed", icon("camera", { size: 18 }), item.evidence === "photo_always" ? "本项须拍摄佐证照片" : "不符合项须拍摄佐证照片") : null);
      const nextShape = JSON.stringify([f.result, f.photo_ids, [...openExtras], editable]);
      if (nextShape === shape) return;
      shape = nextShape;
      paintExtra(f);
    };

    function paintExtra(f) {
      const focusedClass = document.activeElement && extra.contains(document.activeElement)
        ? [...document.activeElement.classList].find((c) => c.startsWith("x-")) : null;
      const parts = [];
      if (!f.result) { replace(extra); return; }
      const failing = f.result === "fail";
      if (item.mode === "deduct" && failing) parts.push(deductField(f));
      if (item.mode === "sample" && f.result !== "na") parts.push(sampleFields(f));
      if (item.monetary && failing) parts.push(amountField(f));
      if (item.physician_points > 0 && failing) parts.push(physicianField(f));
      const showNote = failing || (f.note && f.note.length) || openExtras.has("note");
      const showPhotos = failing || f.photo_ids.length || openExtras.has("photos") || item.evidence === "photo_always";
      if (showNote) parts.push(noteField(f));
      if (showPhotos) parts.push(photoStrip(f));
      const adders = [];
      if (!showNote && editable) adders.push(h("button.link-btn.x-add-note", { type: "button", onclick: () => { openExtras.add("note"); card.update(); card.querySelector(".x-note")?.focus(); } }, icon("plus", { size: 18 }), "说明"));
      if (!showPhotos && editable) adders.push(h("button.link-btn.x-add-photo", { type: "button", onclick: () => { openExtras.add("photos"); card.update(); } }, icon("camera", { size: 18 }), "佐证照片"));
      if (adders.length) parts.push(h("div.adders", adders));
      replace(extra, parts);
      const refocus = focusedClass && extra.querySelector(`.${focusedClass}`);
      if (refocus) {
        refocus.focus();
        if (typeof refocus.setSelectionRange === "function" && refocus.value !== undefined) {
          try { refocus.setSelectionRange(refocus.value.length, refocus.value.length); } catch (error) { /* not a text field */ }
        }
      }
    }

    function deductField(f) {
      const maxOcc = Math.max(1, Math.ceil(item.points / item.per_occurrence));
      const earned = (n) => Math.max(0, item.points - item.per_occurrence * (n || 1));
      const hint = h("span.field-hint.num");
      const paintHint = (n) => replace(hint, `扣 ${Math.min(item.points, item.per_occurrence * (n || 1))} 分，本项得 ${earned(n)}/${item.points} 分${(n || 1) >= maxOcc ? "（已扣完）" : ""}`);
      const stepper = numberStepper({
        id: `occ-${item.id}`, label: "发现处数", value: f.occurrences ?? 1, min: 1, max: 999,
        onChange: (n) => { paintHint(n); if (n !== null) commit(item, { occurrences: n }, card); },
      });
      stepper.input.classList.add("x-occ");
      if (!editable) stepper.element.querySelectorAll("button,input").forEach((el) => { el.disabled = true; });
      paintHint(f.occurrences ?? 1);
      return h("div.field.inline-field.deduct-field",
        h("label", { for: `occ-${item.id}` }, "发现处数"), stepper.element, hint);
    }

    function sampleFields(f) {
      const min = minSampled(item);
      const suggested = /抽查\s*(\d+)/.exec(item.guidance || "");
      const countInput = (key, value, extra = {}) => h(`input.count-input.sample-${key}.x-${key}`, {
        id: `${key}-${item.id}`, type: "text", inputmode: "numeric", pattern: "[0-9]*", autocomplete: "off",
        value: value ?? "", disabled: !editable, ...extra,
      });
      const sampled = countInput("sampled", f.sampled, { placeholder: min ? String(min) : (suggested ? suggested[1] : "") });
      const failed = countInput("failed", f.failed);
      // 总数不足: fewer records exist than the minimum sample. Then every one of them is checked
      // and the answer says how many there were (population = sampled).
      const population = countInput("population", f.population, { "aria-describedby": `population-hint-${item.id}` });
      const populationField = min ? h("div.field.count-field.population-field", { id: `population-field-${item.id}` },
        h("label", { for: population.id }, h("span.population-flag", "总数不足"), "实有总份数"),
        population,
        h("span.field-hint.population-hint", { id: `population-hint-${item.id}` },
          `机构实有记录不足 ${min} 份时填写，并须全部检查：抽查数应等于总份数`)) : null;
      const message = h("span.field-hint.num.sample-message");
      const read = (input) => {
        const digits = input.value.replace(/[^0-9]/g, "");
        if (digits !== input.value) input.value = digits;
        return digits === "" ? null : parseInt(digits, 10);
      };
      const short = (s) => min !== null && s !== null && s >= 1 && s < min;
      const paintMessage = (s, x) => {
        if (populationField) populationField.hidden = !short(s);
        message.classList.toggle("error", s !== null && x !== null && x > s);
        if (s !== null && x !== null && x > s) replace(message, icon("warning", { size: 16 }), "不符合数不能大于抽查数");
        else if (s !== null && s >= 1 && x !== null && answerStatus(item, current(item)).state !== "done") {
          replace(message, `${x} / ${s} 不符合；本项补全前不计分，结果随不符合数自动判定`);
        } else if (s !== null && s >= 1 && x !== null) replace(message, `${x} / ${s} 不符合，本项得 ${(item.points * (1 - x / s)).toFixed(1).replace(/\.0$/, "")}/${item.points} 分；结果随不符合数自动判定`);
        else if (min) replace(message, `抽查不少于 ${min} 份；结果随不符合数自动判定`);
        else replace(message, suggested ? `检查方法建议抽查 ${suggested[1]} 份；结果随不符合数自动判定` : "结果随不符合数自动判定");
      };
      const onInput = () => {
        const s = read(sampled);
        const x = read(failed);
        // A hidden 总份数 is kept in its field (shown again if the sample drops below the
        // minimum) but not in the answer: a full sample needs no population.
        const patch = { sampled: s, failed: x, population: short(s) ? read(population) : null };
        if (x !== null) patch.result = x > 0 ? "fail" : "pass";
        commit(item, patch, card);
        paintMessage(s, x); // after the commit: whether the answer now counts
      };
      sampled.addEventListener("input", onInput);
      failed.addEventListener("input", onInput);
      population.addEventListener("input", onInput);
      paintMessage(f.sampled ?? null, f.failed ?? null);
      return h("div.sample-fields",
        h("div.field.count-field", h("label", { for: sampled.id }, "抽查数"), sampled,
          min ? h("span.field-hint.min-sampled", `不少于 ${min} 份`) : null),
        h("div.field.count-field", h("label", { for: failed.id }, "不符合数"), failed),
        populationField,
        message);
    }

    function amountField(f) {
      // Kept as text from keyboard to server: a JS number would turn 0.1 + 0.2 into 0.30000000000000004.
      const input = h("input.amount-input.x-amount", {
        id: `amount-${item.id}`, type: "text", inputmode: "decimal", autocomplete: "off",
        placeholder: "0.00", maxlength: "24", value: f.amount ?? "", disabled: !editable,
        "aria-describedby": `amount-hint-${item.id}`,
      });
      const hint = h("span.field-hint.amount-hint", { id: `amount-hint-${item.id}`, "aria-live": "polite" });
      const field = h("div.field.amount-field",
        h("label", { for: input.id }, "违规金额（元）"),
        h("div.amount-box", h("span.amount-unit", "¥"), input),
        hint);
      const paintHint = () => {
        const problem = amountProblem(item, current(item));
        const bad = !!problem && problem === AMOUNT_HINT;
        field.classList.toggle("invalid", bad);
        input.setAttribute("aria-invalid", String(bad));
        if (bad) replace(hint, icon("warning", { size: 16 }), problem);
        else if (problem) replace(hint, "不符合项须填写涉及的医保基金金额，精确到分");
        else replace(hint, `涉及医保基金 ${amountLabel(current(item).amount)}，整改通知书据此列明追回金额`);
      };
      // Stored as typed; a valid amount is stored in its two-decimal form ("12.5" -> "12.50").
      input.addEventListener("input", () => {
        const typed = input.value;
        commit(item, { amount: typed.trim() === "" ? null : (normalAmount(typed) ?? typed) }, card);
        paintHint();
      });
      input.addEventListener("change", () => {
        const normal = normalAmount(input.value);
        if (normal !== null && normal !== input.value) input.value = normal;
      });
      paintHint();
      return field;
    }

    function physicianField(f) {
      // Several physicians may share one problem: each named one loses the item's points.
      const chosen = new Set(namedPhysicians(f));
      const list = h("div.physician-list.x-physician", { id: `physician-${item.id}`, role: "group", "aria-label": "涉及医师" },
        data.physicians.map((p) => {
          const box = h("input", { type: "checkbox", value: p.id, checked: chosen.has(p.id), disabled: !editable });
          box.addEventListener("change", () => {
            if (box.checked) chosen.add(p.id); else chosen.delete(p.id);
            commit(item, { physician_id: null, physician_ids: [...chosen] }, card);
          });
          return h("label.physician-option", box,
            ` ${p.name}${p.title ? ` · ${p.title}` : ""}${p.department ? ` · ${p.department}` : ""}`);
        }));
      return h("div.field.physician-field",
        h("span.field-label", "涉及医师（可多选）"),
        data.physicians.length ? list : h("p.muted", "本设备上没有该机构的医保医师名单"),
        h("span.field-hint", `每名所选医师按医保医师记分管理扣 ${item.physician_points} 分（通知书签发后生效，以服务器核定为准）`));
    }

    function noteField(f) {
      const area = h("textarea.note-input.x-note", {
        id: `note-${item.id}`, rows: "2", maxlength: "4000", disabled: !editable,
        placeholder: f.result === "fail" ? "记录发现的问题：位置、数量、涉及的药品或单据等" : "补充说明（可选）",
      });
      area.value = f.note || "";
      area.addEventListener("input", () => {
        const mem = findings.get(item.id);
        if (mem) mem.note = area.value;
        saveFinding(inspection.id, item.id, { note: area.value })
          .catch((error) => toast(`保存失败：${error.message}`, { kind: "error", timeout: 8000 }));
      });
      return h("div.field.note-field", h("label", { for: area.id }, "说明"), area);
    }

    function photoStrip(f) {
      const input = h("input.photo-input.visually-hidden", {
        id: `photo-${item.id}`, type: "file", accept: "image/*", capture: "environment", disabled: !editable,
        dataset: { item: item.id },
      });
      let retakeId = null;
      input.addEventListener("change", () => {
        const file = input.files && input.files[0];
        const target = retakeId;
        retakeId = null;
        input.value = "";
        takePhoto(item, file, card, target);
      });
      const thumbs = f.photo_ids.map((id, i) => {
        const photo = photosById.get(id);
        if (!photo) return h("div.thumb.missing", icon("image"), h("span", "照片缺失"));
        if (!photo.blob && !photo.thumb) return serverThumb(item, id, i);
        return h("div.thumb", { dataset: { photo: id } },
          h("button.thumb-img", { type: "button", "aria-label": `查看第 ${i + 1} 张照片`, onclick: () => viewPhoto(item, photo) },
            h("img", { src: photoUrl(photo), alt: "", loading: "lazy" })),
          editable ? h("div.thumb-actions",
            h("button.icon-btn.retake", { type: "button", "aria-label": `重拍第 ${i + 1} 张`, title: "重拍", onclick: () => { retakeId = id; input.click(); } }, icon("retake", { size: 20 })),
            h("button.icon-btn.delete", { type: "button", "aria-label": `删除第 ${i + 1} 张`, title: "删除", onclick: () => removePhoto(item, id, card, i) }, icon("trash", { size: 20 }))) : null);
      });
      const req = photoRequirement(item, f);
      return h("div.field.photo-field",
        h("div.photo-label", h("span", "佐证照片"), req.required ? h("span.req", "必填") : h("span.muted.small", "可选"),
          f.photo_ids.length ? h("span.muted.small.num", `${f.photo_ids.length} 张`) : null),
        h("div.photo-strip",
          thumbs,
          editable ? h("label.add-photo", { for: input.id }, icon("camera", { size: 28 }), h("span", f.photo_ids.length ? "再拍一张" : "拍照")) : null,
          h("div.thumb.busy", { "aria-hidden": "true" }, h("span.spinner"), h("span", "处理中")),
          input));
    }

    card.update();
    return card;
  }

  // --- the page ------------------------------------------------------------------------------

  const cards = section.items.map((item, i) => itemCard(item, i));
  const prev = sections[sectionIndex - 1];
  const next = sections[sectionIndex + 1];

  const head = h("div.form-head",
    h("div.form-crumbs",
      h("a.back-link", { href: "#/" }, icon("chevronLeft", { size: 20 }), "首页"),
      h("span.crumb-inst", institution.name)),
    h("div.section-title-row",
      h("h1", h("span.section-step.num", `${sectionIndex + 1}/${sections.length}`), section.title),
      h("span.muted.num.section-meta", `${section.items.length} 项 · 权重 ${section.weight}`)),
    !editable ? h("div.callout.info#form-locked", icon("lock"),
      h("p", `本检查${STATE_LABELS[inspection.state] || ""}，已锁定，只能查看。`)) : null,
    editable && inspection.state === "rejected" ? h("div.callout.danger", icon("warning"),
      h("div", h("strong", "服务器退回："), h("span", (inspection.rejection && inspection.rejection.message) || ""), h("p", "修改后请重新提交。"))) : null,
    progressOf(content, findings).answered === 0 && editable ? h("p.muted.form-tip", "逐项点选「符合 / 不符合 / 不适用」，所有内容即时保存在本设备上，无需手动保存。") : null);

  const sectionNav = h("nav.section-nav", { "aria-label": "类别导航" },
    prev ? h("a.btn.secondary.large#prev-section", { href: itemHref(inspection.id, prev.id) }, icon("chevronLeft"), h("span", "上一类别：", prev.title)) : h("span"),
    next ? h("a.btn.primary.large#next-section", { href: itemHref(inspection.id, next.id) }, h("span", "下一类别：", next.title), icon("chevronRight"))
      : h("a.btn.primary.large#to-sign", { href: editable ? `#/sign/${inspection.id}` : `#/submit/${inspection.id}` }, h("span", editable ? "填写完成，去签字确认" : "查看提交情况"), icon("chevronRight")));

  root.append(
    h("div.form-layout",
      h("aside.form-aside", h("div.aside-inner", h("div.aside-head", h("b", content.title), overall), rail)),
      h("div.form-main", head, h("div.item-list", cards), sectionNav)),
    scoreBar);
  // The bar's height varies (a 否决项 line, wrapping on phones): the page keeps that much room
  // below its last button, so 「填写完成，去签字确认」 is never under the bar. Set when mounted:
  // the previous section's cleanup (run after this render) takes its own class and size away.
  const barObserver = new ResizeObserver(() => {
    document.documentElement.style.setProperty("--score-bar-h", `${Math.ceil(scoreBar.getBoundingClientRect().height)}px`);
  });
  paintRail();
  paintScore();

  stops.push(on("inspection-rejected", ({ id }) => { if (id === inspection.id) app.refresh(); }));

  return {
    mounted() {
      document.body.classList.add("has-score-bar");
      barObserver.observe(scoreBar);
      const current = root.querySelector(".rail-item[aria-current]");
      if (current) current.scrollIntoView({ block: "nearest", inline: "center" });
      if (params.itemId) {
        const target = document.getElementById(`item-${params.itemId}`);
        if (target) {
          target.scrollIntoView({ block: "center" });
          target.classList.add("flash");
          setTimeout(() => target.classList.remove("flash"), 1600);
          return;
        }
      }
      window.scrollTo(0, 0);
    },
    cleanup() {
      clearTimeout(scoreFrame);
      stops.forEach((stop) => stop());
      for (const url of objectUrls.values()) URL.revokeObjectURL(url);
      document.body.classList.remove("has-score-bar");
      barObserver.disconnect();
      document.documentElement.style.removeProperty("--score-bar-h");
    },
  };
}
