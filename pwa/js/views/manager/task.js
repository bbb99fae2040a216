// 整改事项 (manager): the item, what was found, basis, required action, deadline; the history with
// reviewers' comments in full; and, as the API allows now: 提交整改报告 (text + photos), 申诉, 留言.
import { api } from "../../api.js";
import { h, replace } from "../../ui/dom.js";
import { icon } from "../../ui/icons.js";
import { toast } from "../../ui/toast.js";
import { confirm } from "../../ui/dialog.js";
import { prepareImage, sha256Hex } from "../../photo-prep.js";
import {
  BASE, backLink, call, homeOf, daysChip, errorText, fact, failurePanel, foundWords, fullDay, isOffline, keep,
  loadJson, momentText, photoStrip, photoThumb, storeJson, taskStatusChip,
} from "./common.js";

const MAX_PHOTOS = 20;

export async function render(root, params, app) {
  const taskId = params.taskId;
  let task;
  let notice = null;
  try {
    task = await call(`/tasks/${taskId}`);
    notice = await call(`/notices/${task.notice_id}`).catch(() => null);
  } catch (error) {
    const home = homeOf(app.session);
    replace(root, backLink(home.href, home.text), failurePanel(error, () => app.refresh(), app.session));
    return null;
  }
  const actions = new Set(task.actions || []);
  const cleanups = [];
  const reload = () => app.refresh();

  replace(root,
    backLink(`#/m/notice/${task.notice_id}`, task.notice_number || "整改通知书"),
    h("div.m-task-layout",
      h("div.m-task-main",
        taskHead(task),
        actions.has("answer") ? answerForm(task, reload, cleanups) : null,
        answerShown(task),
        objectionShown(task),
        actions.has("object") ? objectionForm(task, notice, reload) : null,
        !actions.has("object") && !task.objection ? objectionNote(task, notice, app.session) : null),
      h("aside.m-task-side",
        historyPanel(task),
        actions.has("comment") ? commentForm(task, reload) : null)));
  return () => cleanups.forEach((fn) => fn());
}

function taskHead(t) {
  const counts = foundWords(t.found);
  return h("section.panel.m-task-head", { dataset: { task: t.id, status: t.status } },
    h("div.card-top",
      h("div.chips", h("span.chip.type", `第 ${t.seq} 项`), taskStatusChip(t)),
      daysChip(t)),
    h("h1.m-task-title#m-task-title", t.item_text),
    t.section_title ? h("p.muted.small", `${t.section_title} · ${t.institution.name}`) : null,
    h("dl.facts.m-facts",
      fact("检查发现", [t.found && t.found.note, ...counts].filter(Boolean).join("；") || "不符合"),
      fact("判定标准", t.fail_when),
      fact("依据", t.basis),
      fact("整改要求", t.required_action, "m-required"),
      fact("整改期限", h("span", fullDay(t.deadline), " ", daysChip(t)))),
    (t.found && t.found.photos && t.found.photos.length) ? h("div.m-block", h("h2.m-sub", "检查照片"), photoStrip(t.found.photos, "检查照片")) : null,
    t.status === "open" && t.review_comment
      ? h("div.callout.danger.m-review", { id: "m-review-comment" }, icon("warning"),
        h("div", h("strong", "退回意见（请按意见重新整改后再次提交）"), h("p.m-pre", t.review_comment))) : null);
}

/** The objection window in words, where no objection can be filed from this screen. */
function objectionNote(task, notice, session) {
  if (!notice || !notice.objection_deadline || task.status === "accepted" || task.status === "cancelled") return null;
  const end = fullDay(notice.objection_deadline);
  if (!notice.objection_open) {
    return h("p.muted.small.m-objection-closed", icon("flag", { size: 18 }), `申诉期已于 ${end} 结束。`);
  }
  // Open, but not for this user: staff read when the institution may still object.
  if (session && session.role === "manager") return null;
  return h("p.muted.small.m-objection-open", icon("flag", { size: 18 }), `申诉期至 ${end}：机构医保负责人可在此之前对该项提出申诉。`);
}

function answerShown(t) {
  if (!t.answer) return null;
  return h("section.panel.m-answer-shown#m-answer-shown",
    h("h2", t.status === "open" ? "上次提交的整改报告（已退回）" : "已提交的整改报告"),
    h("p.muted.small", t.answered_at ? `提交于 ${momentText(t.answered_at)}` : ""),
    h("p.m-pre", t.answer),
    photoStrip(t.answer_photos, "整改照片"),
    t.status === "answered" ? h("div.callout.info", icon("clock"), h("p", "已提交，等待医保部门验收。")) : null,
    t.status === "accepted" ? h("div.callout.ok", icon("check"), h("p", `验收通过${t.review_comment ? `：${t.review_comment}` : ""}`)) : null);
}

function objectionShown(t) {
  const o = t.objection;
  if (!o) return null;
  return h("section.panel.m-objection-shown#m-objection-shown",
    h("div.card-top", h("h2", "申诉"), h("span.chip.kind", o.status_label)),
    h("p.muted.small", `提出于 ${momentText(o.filed_at)}`),
    h("p.m-pre", o.reason),
    o.decided_at ? h("div.callout.info", icon("info"), h("div", h("strong", `处理结果：${o.status_label}（${momentText(o.decided_at)}）`), o.decision_comment ? h("p.m-pre", o.decision_comment) : null)) : null);
}

// --- 提交整改报告 ------------------------------------------------------------------------------

function answerForm(task, reload, cleanups) {
  const key = `report:${task.id}`;
  const photosKey = `photos:${task.id}`;
  const report = h("textarea#m-report", { rows: "6", maxlength: "4000", placeholder: "写明已采取的整改措施、完成时间和效果，例如：已对全部药品补充标价签，并建立每日巡查制度。" });
  const kept = keep(key, report);
  const error = h("div.form-error#m-answer-error", { role: "alert", hidden: true });
  // Uploaded photos survive a reload of the page (ids and thumbnails from the server).
  const photos = loadJson(photosKey, []).map((p) => ({ ...p, state: "done" }));
  const strip = h("div.m-photos.m-upload-strip#m-answer-photos");
  const input = h("input#m-photo-input.visually-hidden", { type: "file", accept: "image/*", capture: "environment", multiple: true });
  const add = h("label.btn.secondary.m-add-photo", { for: "m-photo-input" }, icon("camera"), "拍照或选择照片");
  const submit = h("button.btn.primary.large#m-answer-submit", { type: "submit" }, icon("send"), "提交");

  const persist = () => storeJson(photosKey, photos.filter((p) => p.state === "done").map(({ id, url, thumbnail_url: thumb }) => ({ id, url, thumbnail_url: thumb })));

  function paintPhotos() {
    replace(strip, photos.map((p) => {
      const remove = h("button.icon-btn.delete.m-photo-delete", {
        type: "button", "aria-label": "删除这张照片",
        onclick: () => { photos.splice(photos.indexOf(p), 1); if (p.local) URL.revokeObjectURL(p.local); persist(); paintPhotos(); },
      }, icon("trash", { size: 20 }));
      let visual;
      if (p.state === "done" && !p.local) visual = photoThumb(p, { label: "整改照片" });
      else visual = h("span.m-thumb", h("img", { src: p.local, alt: "整改照片" }));
      const state = p.state === "uploading" ? h("span.m-photo-state", "上传中…")
        : p.state === "failed" ? h("button.btn.small.danger-outline", { type: "button", onclick: () => upload(p) }, "上传失败，重试")
          : h("span.m-photo-state.ok-text", icon("check", { size: 16 }), "已上传");
      return h("div.m-photo", { dataset: { state: p.state } }, visual, h("div.m-photo-bar", state, remove));
    }), photos.length < MAX_PHOTOS ? add : null);
  }

  async function upload(p) {
    p.state = "uploading";
    paintPhotos();
    const form = new FormData();
    form.append("id", p.id);
    form.append("sha256", p.sha256);
    form.append("captured_at", p.captured_at);
    form.append("file", p.blob, "photo.jpg");
    try {
      const { body } = await api(`${BASE}/tasks/${task.id}/photos`, { method: "POST", form, timeoutMs: 120000 });
      Object.assign(p, { state: "done", url: body.url, thumbnail_url: body.thumbnail_url });
      persist();
    } catch (err) {
      p.state = "failed";
      p.error = errorText(err);
      toast(`照片上传失败：${p.error}`, { kind: "error", timeout: 6000 });
    }
    if (photos.includes(p)) paintPhotos();
  }

  input.addEventListener("change", async () => {
    const files = Array.from(input.files || []);
    input.value = "";
    for (const file of files) {
      if (photos.length >= MAX_PHOTOS) { toast(`最多 ${MAX_PHOTOS} 张照片`, { kind: "warning" }); break; }
      try {
        const prepared = await prepareImage(file);
        const p = {
          id: crypto.randomUUID(), blob: prepared.blob, sha256: await sha256Hex(prepared.blob),
          captured_at: new Date(file.lastModified || Date.now()).toISOString(),
          local: URL.createObjectURL(prepared.blob), state: "uploading",
        };
        photos.push(p);
        upload(p);
      } catch (err) {
        toast(err.message, { kind: "error" });
      }
    }
  });
  cleanups.push(() => photos.forEach((p) => p.local && URL.revokeObjectURL(p.local)));

  const form = h("form.panel.m-answer-form#m-answer-form", { novalidate: true },
    h("h2", "提交整改报告"),
    h("div.field", h("label", { for: "m-report" }, "整改报告"), report,
      h("p.field-hint", "输入的内容会暂存在本页，发送失败也不会丢失。")),
    h("div.field", h("span.photo-label", "整改照片"), h("p.field-hint", "拍摄整改后的现场照片，可选多张；发送前可删除。"), strip, input),
    error,
    h("div.m-submit-row", submit));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const text = report.value.trim();
    if (!text) return show("请填写整改报告，说明已采取的整改措施。", report);
    if (photos.some((p) => p.state === "uploading")) return show("照片还在上传，请稍候再提交。");
    if (photos.some((p) => p.state === "failed")) return show("有照片上传失败：请点“重试”或删除该照片后再提交。");
    submit.disabled = true;
    submit.replaceChildren("正在提交…");
    try {
      await call(`/tasks/${task.id}/answer`, { method: "POST", json: { report: text, photo_ids: photos.map((p) => p.id) } });
      kept.clear();
      storeJson(photosKey, null);
      toast("整改报告已提交，等待验收", { kind: "success" });
      reload();
    } catch (err) {
      show(isOffline(err) ? "当前离线，整改报告未发送。已填写的内容和照片仍保留在本页，联网后请再点“提交”。" : `提交失败：${errorText(err)}`);
      submit.disabled = false;
      submit.replaceChildren(icon("send"), "提交");
    }
    return null;
  });

  function show(text, focus = null) {
    error.replaceChildren(icon("warning", { size: 20 }), h("span", text));
    error.hidden = false;
    if (focus) focus.focus();
    return null;
  }

  paintPhotos();
  return form;
}

// --- 申诉 ------------------------------------------------------------------------------------

function objectionForm(task, notice, reload) {
  const reason = h("textarea#m-objection-reason", { rows: "4", maxlength: "4000", placeholder: "说明对检查发现有异议的事实和理由" });
  const kept = keep(`objection:${task.id}`, reason);
  const error = h("div.form-error#m-objection-error", { role: "alert", hidden: true });
  const submit = h("button.btn.secondary#m-objection-submit", { type: "submit" }, icon("flag"), "提出申诉");
  const end = notice && notice.objection_deadline;
  const form = h("form.panel.m-objection-form#m-objection-form", { novalidate: true },
    h("details.m-fold", { open: !!reason.value },
      h("summary", h("span", h("b", "申诉"), end ? h("span.muted", `（申诉期至 ${fullDay(end)}）`) : null), icon("chevronDown", { size: 20 })),
      h("p.field-hint", "对该项检查发现有异议的，可在申诉期内提出一次申诉。申诉期间不停止整改，请按期完成整改。"),
      h("div.field", h("label", { for: "m-objection-reason" }, "申诉理由"), reason),
      error,
      h("div.m-submit-row", submit)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const text = reason.value.trim();
    if (!text) {
      error.replaceChildren(icon("warning", { size: 20 }), h("span", "请填写申诉理由。"));
      error.hidden = false;
      reason.focus();
      return;
    }
    const ok = await confirm({
      id: "m-objection-dialog",
      title: "提出申诉？",
      body: h("div", h("p", `第 ${task.seq} 项：${task.item_text}`), h("p", "每个整改事项只能申诉一次，提交后不能修改。申诉期间不停止整改。")),
      confirmText: "提交申诉",
    });
    if (!ok) return;
    submit.disabled = true;
    try {
      await call(`/tasks/${task.id}/objection`, { method: "POST", json: { reason: text } });
      kept.clear();
      toast("申诉已提交，等待医保部门处理", { kind: "success" });
      reload();
    } catch (err) {
      error.replaceChildren(icon("warning", { size: 20 }), h("span", `申诉未提交：${errorText(err)}`));
      error.hidden = false;
      submit.disabled = false;
    }
  });
  return form;
}

// --- 记录与留言 -------------------------------------------------------------------------------

function historyPanel(t) {
  const events = (t.history || []).slice().reverse();
  return h("section.panel.m-history#m-history", { "aria-labelledby": "m-history-title" },
    h("h2#m-history-title", "办理记录与留言"),
    events.length ? h("ol.m-timeline", events.map((e) => h("li.m-event", { dataset: { kind: e.kind } },
      h("div.m-event-top", h("strong", e.label), h("span.muted.small.num", momentText(e.at))),
      e.actor_name ? h("div.small.muted", [e.actor_name, roleWord(e.actor_role)].filter(Boolean).join(" · ")) : null,
      e.text ? h("p.m-pre.m-event-text", e.text) : null,
      photoStrip(e.photos, "照片"))))
      : h("div.empty-line", icon("info", { size: 20 }), h("span", "暂无记录")));
}

function roleWord(role) {
  return { manager: "机构医保负责人", inspector: "检查人员", supervisor: "监管人员", admin: "管理员" }[role] || null;
}

function commentForm(task, reload) {
  const text = h("textarea#m-comment", { rows: "3", maxlength: "4000", placeholder: "向医保部门留言或补充说明" });
  const kept = keep(`comment:${task.id}`, text);
  const error = h("div.form-error#m-comment-error", { role: "alert", hidden: true });
  const submit = h("button.btn.secondary#m-comment-submit", { type: "submit" }, icon("send"), "发送留言");
  const form = h("form.panel.m-comment-form#m-comment-form", { novalidate: true },
    h("div.field", h("label", { for: "m-comment" }, "留言"), text), error, h("div.m-submit-row", submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const value = text.value.trim();
    if (!value) { text.focus(); return; }
    submit.disabled = true;
    try {
      await call(`/tasks/${task.id}/comments`, { method: "POST", json: { text: value } });
      kept.clear();
      toast("留言已发送", { kind: "success" });
      reload();
    } catch (err) {
      error.replaceChildren(icon("warning", { size: 20 }), h("span", `留言未发送：${errorText(err)}`));
      error.hidden = false;
      submit.disabled = false;
    }
  });
  return form;
}
