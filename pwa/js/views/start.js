// 开始检查: confirm the institution on site — scan its QR code (camera or an image of it) or
// choose it from the list — then create (or resume) the local inspection of the assignment.
import { db } from "../db.js";
import { h, replace } from "../ui/dom.js";
import { icon } from "../ui/icons.js";
import { toast } from "../ui/toast.js";
import { TYPE_LABELS, STATE_LABELS, windowLabel, isoDay } from "../ui/format.js";
import { cameraErrorMessage, decodeImageFile, parseQrPayload, startCameraScan } from "../ui/qr-scanner.js";
import {
  isEditable, inspectionOfAssignment, institutionByToken, loadAssignment, openAssignmentsOf, startInspection,
} from "./model.js";

export async function render(root, params, app) {
  const assignmentId = params.assignmentId;
  const context = assignmentId ? await loadAssignment(assignmentId) : null;
  if (assignmentId && !context) {
    root.append(h("div.panel.empty", icon("warning", { size: 32 }),
      h("p", "本设备上没有这个检查任务（可能已取消，或尚未同步）。"),
      h("a.btn.secondary", { href: "#/" }, "返回首页")));
    return null;
  }
  const existing = context ? await inspectionOfAssignment(assignmentId) : null;
  let stopCamera = null;
  let mode = "scan";
  let chosen = null; // {assignment, institution, verified: "qr" | "list"}

  const head = h("div.page-head",
    h("div",
      h("a.back-link", { href: "#/" }, icon("chevronLeft", { size: 20 }), "首页"),
      h("h1", "开始检查"),
      h("p.muted", context ? "请到现场核对机构：扫描机构二维码，或从列表选择并核对。" : "扫描机构张贴的检查二维码，打开该机构的检查任务。")));

  const summary = context ? assignmentSummary(context) : null;
  const resume = existing ? resumePanel(existing, context) : null;

  const scanTab = h("button.tab#tab-scan", { type: "button", role: "tab", onclick: () => setMode("scan") }, icon("qr"), "扫描机构二维码");
  const listTab = h("button.tab#tab-list", { type: "button", role: "tab", onclick: () => setMode("list") }, icon("list"), "从列表选择");
  const tabs = h("div.tabs", { role: "tablist" }, scanTab, listTab);
  const body = h("div.start-body");
  const result = h("div.start-result#scan-result", { "aria-live": "polite" });

  root.append(h("div.narrow", head, summary, resume,
    existing ? null : h("section.panel.start-panel", tabs, body, result)));

  function setMode(next) {
    mode = next;
    scanTab.setAttribute("aria-selected", String(mode === "scan"));
    listTab.setAttribute("aria-selected", String(mode === "list"));
    if (stopCamera) { stopCamera(); stopCamera = null; }
    replace(result);
    if (mode === "scan") renderScan(); else renderList();
  }

  // --- scanning ------------------------------------------------------------------------------

  function renderScan() {
    const video = h("video.scan-video", { playsinline: true, muted: true, "aria-label": "摄像头画面" });
    const status = h("p.scan-status#scan-status", "正在打开摄像头…");
    const retry = h("button.btn.secondary#scan-camera", { type: "button", hidden: true, onclick: () => openCamera() }, icon("camera"), "打开摄像头");
    const fileInput = h("input#scan-file.visually-hidden", { type: "file", accept: "image/*" });
    fileInput.addEventListener("change", async () => {
      const file = fileInput.files && fileInput.files[0];
      fileInput.value = "";
      if (!file) return;
      status.textContent = "正在识别图片中的二维码…";
      try {
        const text = await decodeImageFile(file);
        if (!text) {
          showError("没有在这张图片中找到二维码", "请让二维码完整、清晰地出现在画面中再试。");
          status.textContent = "未识别到二维码";
          return;
        }
        status.textContent = "已识别二维码";
        await handleCode(text);
      } catch (error) {
        showError("无法读取这张图片", error.message);
      }
    });
    replace(body,
      h("div.scan-box",
        h("div.scan-viewport", video, h("div.scan-frame", { "aria-hidden": "true" }),
          h("div.scan-off", { "aria-hidden": "true" }, icon("camera", { size: 40 }), h("span", "摄像头未开启"))),
        h("div.scan-side",
          status,
          h("p.muted", "将机构张贴的检查二维码置于框内，识别后会显示机构信息供核对。"),
          retry,
          h("label.btn.secondary.file-btn", { for: "scan-file" }, icon("image"), "选择二维码图片"),
          fileInput)));

    async function openCamera() {
      retry.hidden = true;
      status.textContent = "正在打开摄像头…";
      video.parentElement.classList.remove("camera-off");
      try {
        stopCamera = await startCameraScan(video, (text) => handleCode(text));
        status.textContent = "请将二维码对准取景框";
      } catch (error) {
        status.textContent = `${cameraErrorMessage(error)}。可以选择一张二维码图片，或从列表选择机构。`;
        retry.hidden = false;
        video.parentElement.classList.add("camera-off");
      }
    }
    openCamera();
  }

  let handling = false;
  async function handleCode(text) {
    if (handling) return;
    handling = true;
    try {
      const token = parseQrPayload(text);
      if (!token) {
        showError("这不是医保定点机构检查码", "请扫描机构张贴的「医保现场检查」二维码。");
        return;
      }
      await handleToken(token);
    } finally {
      handling = false;
    }
  }

  async function handleToken(token) {
    const institution = await institutionByToken(token);
    if (!institution) {
      showError("未找到这个二维码对应的机构",
        "它可能不属于您辖区的定点机构，或本设备的机构资料尚未更新（联网同步后再试）。");
      return;
    }
    if (context) {
      if (institution.id !== context.institution.id) {
        showError("机构不符，不能开始检查",
          `扫描到的是「${institution.name}」（${institution.code}）的二维码，而本检查任务的机构是「${context.institution.name}」（${context.institution.code}）。请核对后扫描本机构的二维码。`,
          "scan-mismatch");
        return;
      }
      choose(context.assignment, institution, "qr");
      return;
    }
    const open = await openAssignmentsOf(institution.id);
    if (!open.length) {
      showError(`「${institution.name}」没有分配给您的检查任务`, "请核对机构，或联系监管人员安排检查任务。");
      return;
    }
    choose(open[0], institution, "qr");
  }

  function showError(title, detail, id = "scan-error") {
    if (stopCamera) { /* keep scanning: the next code may be the right one */ }
    replace(result, h(`div.callout.danger#${id}`, { role: "alert" }, icon("warning"),
      h("div", h("strong", title), detail ? h("p", detail) : null)));
  }

  // --- choosing from the list ----------------------------------------------------------------

  async function renderList() {
    // Assignments still to inspect: not done or cancelled, and with no submitted work here.
    const busy = new Set((await db.inspections.toArray())
      .filter((i) => i.state !== "draft").map((i) => i.assignment_id));
    const rows = (await db.assignments.toArray())
      .filter((a) => a.status !== "done" && a.status !== "cancelled"
        && (!busy.has(a.id) || (context && a.id === context.assignment.id)));
    const today = isoDay();
    rows.sort((x, y) => {
      if (context) {
        if (x.id === context.assignment.id) return -1;
        if (y.id === context.assignment.id) return 1;
      }
      return String(x.window_start).localeCompare(String(y.window_start));
    });
    const institutions = new Map((await db.institutions.toArray()).map((i) => [i.id, i]));
    const items = rows.map((a) => {
      const inst = institutions.get(a.institution_id) || a.institution;
      const current = context && a.id === context.assignment.id;
      const late = String(a.window_end) < today;
      return h("li", h("button.list-choice", {
        type: "button", dataset: { assignment: a.id, institution: inst.name },
        onclick: (event) => {
          for (const el of body.querySelectorAll(".list-choice")) el.setAttribute("aria-pressed", "false");
          event.currentTarget.setAttribute("aria-pressed", "true");
          choose(a, inst, "list");
        },
        "aria-pressed": "false",
      },
      h("span.choice-main",
        h("b", inst.name),
        h("span.muted", `${inst.type_label || TYPE_LABELS[inst.type] || ""} · ${windowLabel(a.window_start, a.window_end)}${late ? " · 已逾期" : ""}`)),
      current ? h("span.chip.ok", "本任务") : null,
      icon("chevronRight", { size: 20 })));
    });
    replace(body, rows.length
      ? h("div", h("p.muted", "选择要检查的机构，核对名称、编码和地址后开始。"), h("ul.choice-list#institution-list", items))
      : h("div.empty-line", icon("info", { size: 20 }), h("span", "没有待检查的任务。")));
  }

  // --- confirmation --------------------------------------------------------------------------

  function choose(assignment, institution, verified) {
    chosen = { assignment, institution, verified };
    const button = h("button.btn.primary.large.block#start-confirm", { type: "button", onclick: () => begin() },
      "确认机构无误，开始检查");
    replace(result, h("div.confirm-card#confirm-institution", { role: "region", "aria-label": "核对机构信息" },
      verified === "qr"
        ? h("div.callout.ok", icon("check"), h("div", h("strong", "二维码核验通过"), h("p", "已确认是本任务的机构。")))
        : h("p.confirm-lead", "请与现场核对机构信息："),
      h("dl.facts",
        h("div", h("dt", "机构名称"), h("dd#confirm-name", institution.name)),
        h("div", h("dt", "定点机构编码"), h("dd.num#confirm-code", institution.code || "—")),
        h("div", h("dt", "地址"), h("dd#confirm-address", institution.address || "—")),
        h("div", h("dt", "检查时间"), h("dd", windowLabel(assignment.window_start, assignment.window_end)))),
      button));
    if (stopCamera) { stopCamera(); stopCamera = null; }
    button.scrollIntoView({ block: "nearest", behavior: "smooth" });
    button.focus({ preventScroll: true });
  }

  async function begin() {
    if (!chosen) return;
    try {
      const { inspection, created } = await startInspection(chosen.assignment.id);
      if (!created && inspection.state !== "draft" && inspection.state !== "rejected") {
        toast(`本任务的检查已提交（${STATE_LABELS[inspection.state]}）`, { kind: "info" });
        app.navigate("#/sync");
        return;
      }
      toast(created ? `已开始检查：${chosen.institution.name}` : "继续上次的检查", { kind: "success" });
      app.navigate(`#/inspect/${inspection.id}`);
    } catch (error) {
      replace(result, h("div.callout.danger", { role: "alert" }, icon("warning"), h("p", error.message)));
    }
  }

  if (!existing) {
    setMode("scan");
    if (params.query && params.query.token) {
      await handleToken(params.query.token);
    }
  }

  return () => { if (stopCamera) stopCamera(); };
}

function assignmentSummary({ assignment, institution, checklist }) {
  const others = (assignment.inspectors || []).map((p) => p.display_name).join("、");
  return h("section.panel.assignment-summary",
    h("div.chips",
      h("span.chip.type", institution.type_label || TYPE_LABELS[institution.type] || ""),
      h("span.chip.kind", assignment.kind_label || ""),
      institution.agreement_status && institution.agreement_status !== "normal"
        ? h("span.chip.danger", `协议状态：${institution.agreement_status_label || institution.agreement_status}`) : null),
    h("h2.summary-title", institution.name),
    h("dl.facts.compact",
      h("div", h("dt", "定点机构编码"), h("dd.num", institution.code || "—")),
      h("div", h("dt", "地址"), h("dd", institution.address || "—")),
      h("div", h("dt", "检查时间"), h("dd", windowLabel(assignment.window_start, assignment.window_end))),
      h("div", h("dt", "检查人员"), h("dd", others || "—")),
      h("div", h("dt", "检查表"), h("dd", checklist ? `${checklist.content.title}（第 ${checklist.version} 版）` : "（本设备缺少检查表，请联网同步）"))));
}

function resumePanel(inspection, context) {
  if (inspection.state === "rejected" && !isEditable(inspection)) {
    return h("div.callout.danger.resume", icon("warning"),
      h("div", h("strong", "本任务的检查被服务器退回"), h("p", (inspection.rejection && inspection.rejection.message) || "")),
      h("a.btn.secondary", { href: "#/sync" }, "查看同步"));
  }
  if (isEditable(inspection)) {
    return h("div.callout.info.resume", icon("pen"),
      h("div", h("strong", inspection.state === "rejected" ? "本任务的检查被服务器退回" : "本任务已有未完成的检查"),
        h("p", "可以直接继续，之前的记录都在。")),
      h("a.btn.primary#resume-inspection", { href: `#/inspect/${inspection.id}` }, "继续检查"));
  }
  return h("div.callout.ok.resume", icon("lock"),
    h("div", h("strong", `本任务的检查已提交（${STATE_LABELS[inspection.state] || inspection.state}）`),
      h("p", `${context.institution.name} 的检查记录已锁定。`)),
    h("a.btn.secondary", { href: "#/sync" }, "查看同步状态"));
}
