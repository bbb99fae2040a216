// 首页: 今日任务 / 已逾期 / 即将开始, 草稿 with progress, 待同步 / 已同步, 被退回 with the reason.
import { db, getMeta } from "../db.js";
import { on } from "../events.js";
import { isOnline } from "../connection.js";
import { h, replace } from "../ui/dom.js";
import { icon } from "../ui/icons.js";
import { toast } from "../ui/toast.js";
import {
  AGREEMENT_LABELS, TYPE_LABELS, dayLabel, daysFromToday, gradeBandClass, gradeClass, isoDay,
  momentLabel, scoreLabel, windowLabel,
} from "../ui/format.js";
import { stateChip } from "../ui/status.js";
import { progressOf } from "./model.js";
import { knownNotices, noticeLine, refreshNotices } from "./notice-of.js";

const WEEKDAYS = "日一二三四五六";

export async function render(root, _params, app) {
  const stops = [];
  let timer = null;
  const repaint = () => {
    clearTimeout(timer);
    timer = setTimeout(() => paint(root, app).catch((error) => console.error(error)), 60);
  };
  for (const type of ["bundle-updated", "inspection-synced", "inspection-rejected", "sync-state"]) {
    stops.push(on(type, repaint));
  }
  await paint(root, app);
  if (app.notice) {
    const { kind, text } = app.notice;
    app.notice = null;
    toast(text, { kind, timeout: 8000 });
  }
  return () => { clearTimeout(timer); stops.forEach((stop) => stop()); };
}

async function paint(root, app) {
  const session = app.session || {};
  const [assignments, inspections, institutionsList, checklists, lastBundleAt, notices] = await Promise.all([
    db.assignments.toArray(),
    db.inspections.toArray(),
    db.institutions.toArray(),
    db.checklists.toArray(),
    getMeta("last_bundle_at"),
    knownNotices(),
  ]);
  const institutions = new Map(institutionsList.map((i) => [i.id, i]));
  const checklistByVersion = new Map(checklists.map((c) => [c.version_id, c]));
  const assignmentById = new Map(assignments.map((a) => [a.id, a]));
  const byAssignment = new Map(inspections.map((i) => [i.assignment_id, i]));
  const today = isoDay();

  const groups = { today: [], overdue: [], upcoming: [], doneElsewhere: [] };
  for (const a of assignments) {
    if (a.status === "cancelled" || byAssignment.has(a.id)) continue;
    if (a.status === "done" || (a.inspection && a.inspection.status === "submitted")) {
      groups.doneElsewhere.push(a);
    } else if (String(a.window_end) < today) groups.overdue.push(a);
    else if (String(a.window_start) > today) groups.upcoming.push(a);
    else groups.today.push(a);
  }
  groups.today.sort((x, y) => String(x.window_end).localeCompare(String(y.window_end)));
  groups.overdue.sort((x, y) => String(x.window_end).localeCompare(String(y.window_end)));
  groups.upcoming.sort((x, y) => String(x.window_start).localeCompare(String(y.window_start)));

  const byState = (state) => inspections.filter((i) => i.state === state)
    .sort((x, y) => (y.updated_at || 0) - (x.updated_at || 0));
  const drafts = byState("draft");
  const rejected = byState("rejected");
  const waiting = [...byState("syncing"), ...byState("queued")];
  const synced = byState("synced");

  // Progress of drafts (and rejected ones, which go back to editing).
  const progress = new Map();
  for (const inspection of [...drafts, ...rejected]) {
    const checklist = checklistByVersion.get(inspection.checklist_version_id);
    if (!checklist) continue;
    const findings = await db.findings.where("inspection_id").equals(inspection.id).toArray();
    progress.set(inspection.id, progressOf(checklist.content, new Map(findings.map((f) => [f.item, f]))));
  }

  // A grade's colour follows its place in the checklist's bands (v2 may name them otherwise);
  // by the name only when the checklist is no longer on this device.
  const gradeColour = (versionId, grade) => {
    const checklist = checklistByVersion.get(versionId);
    return checklist ? gradeBandClass(checklist.content, grade) : gradeClass(grade);
  };
  const ctx = { institutions, assignmentById, progress, session, notices, gradeColour };
  const now = new Date();
  const noBundle = !lastBundleAt && assignments.length === 0;

  const inspector = !session.role || session.role === "inspector";
  const head = h("div.page-head",
    h("div",
      h("h1", `${session.display_name || session.username || ""}，您好`),
      h("p.muted", [session.region_name, `${now.getMonth() + 1}月${now.getDate()}日 星期${WEEKDAYS[now.getDay()]}`].filter(Boolean).join(" · "))),
    // Only inspectors inspect: the server refuses anyone else's push.
    inspector ? h("a.btn.primary.large#home-scan", { href: "#/start" }, icon("qr"), "扫码开始检查") : null);

  if (!inspector) {
    // Not reached through the app (each role is sent to its own home); a typed link lands here.
    const home = session.role === "manager" ? ["#/m", "整改通知书"] : ["#/desk", "工作台"];
    replace(root, head, h("div.callout.info#home-other-role", icon("info"),
      h("div", h("p", `现场检查由检查人员在平板上完成。您的账号为「${session.role_label || session.role}」。`),
        h("a.btn.primary", { href: home[0] }, `前往${home[1]}`))));
    return;
  }

  const main = [];
  const side = [];
  if (noBundle) {
    main.push(h("div.callout.info#bundle-pending", icon(isOnline() ? "sync" : "offline"),
      h("p", isOnline() ? "正在下载检查任务、检查表和机构资料…" : "尚未下载检查任务。请连接网络，下载完成后即可离线检查。")));
  }
  if (rejected.length) {
    main.push(group("被退回", "rejected", rejected.map((i) => rejectedCard(i, ctx)), "服务器未接受以下检查，请按原因处理。"));
  }
  if (drafts.length) {
    main.push(group("草稿", "drafts", drafts.map((i) => draftCard(i, ctx)), "检查中，所有内容已保存在本设备上。"));
  }
  main.push(group("今日任务", "today", groups.today.map((a) => assignmentCard(a, ctx, "today")),
    null, noBundle ? "下载完成后，这里会列出今天的检查任务。" : "今天没有待开始的检查任务。"));
  if (groups.overdue.length) {
    main.push(group("已逾期", "overdue", groups.overdue.map((a) => assignmentCard(a, ctx, "overdue")), "已超过检查时间，请尽快完成；如需调整检查时间，请联系安排任务的监管人员。"));
  }
  if (groups.upcoming.length) {
    main.push(group("即将开始", "upcoming", groups.upcoming.map((a) => assignmentCard(a, ctx, "upcoming"))));
  }
  side.push(group("待同步", "waiting", waiting.map((i) => submittedCard(i, ctx)),
    waiting.length ? (isOnline() ? "已提交，正在等待上传到服务器。" : "已提交并锁定，保存在本设备上；联网后自动上传。") : null,
    "没有等待上传的检查。提交后的检查会显示在这里，直到服务器确认收到。"));
  if (synced.length || groups.doneElsewhere.length) {
    side.push(group("已同步", "synced", [
      ...synced.map((i) => submittedCard(i, ctx)),
      ...groups.doneElsewhere.map((a) => doneElsewhereCard(a, ctx)),
    ], "服务器已收到，正式得分以服务器计算为准。"));
  }
  replace(root, head, h("div.home-columns", h("div.home-main", main), h("aside.home-side", { "aria-label": "提交与同步" }, side)));

  // Whether a notice was issued for what was submitted: asked after painting (never in the way
  // of the first screen), painted again only when something changed.
  const submitted = [
    ...synced.map((i) => ({ id: (i.server && i.server.inspection_id) || i.id, institution_id: i.institution_id })),
    ...groups.doneElsewhere.filter((a) => a.inspection && a.inspection.id)
      .map((a) => ({ id: a.inspection.id, institution_id: a.institution_id || a.institution.id })),
  ];
  refreshNotices(submitted).then((changed) => { if (changed && root.isConnected) paint(root, app); }).catch(() => {});
}

function group(title, key, cards, hint = null, empty = null) {
  return h(`section.home-group.group-${key}`, { id: `group-${key}`, "aria-labelledby": `group-${key}-title` },
    h("div.group-head",
      h("h2", { id: `group-${key}-title` }, title),
      cards.length ? h("span.count.num", String(cards.length)) : null),
    hint ? h("p.group-hint.muted", hint) : null,
    cards.length ? h("div.card-grid", cards) : h("div.empty-line", icon("info", { size: 20 }), h("span", empty || "暂无")));
}

function chip(text, kind = "") {
  return h(`span.chip${kind ? `.${kind}` : ""}`, text);
}

function institutionOf(ctx, assignment, inspection) {
  const id = (inspection && inspection.institution_id) || (assignment && (assignment.institution_id || assignment.institution.id));
  return ctx.institutions.get(id) || (assignment && assignment.institution) || { name: "（机构资料缺失）" };
}

function metaLine(iconName, text) {
  return text ? h("div.meta-line", icon(iconName, { size: 18 }), h("span", text)) : null;
}

function windowHint(a, when) {
  if (when === "overdue") return chip(`已逾期 ${-daysFromToday(a.window_end)} 天`, "danger");
  if (when === "upcoming") {
    const d = daysFromToday(a.window_start);
    return chip(d === 1 ? "明天开始" : `${d} 天后开始`, "neutral");
  }
  const left = daysFromToday(a.window_end);
  return chip(left === 0 ? "今天截止" : `还剩 ${left} 天`, left === 0 ? "warning" : "ok");
}

function coInspectors(a, ctx) {
  const me = ctx.session.user_id;
  const others = (a.inspectors || []).filter((p) => p.id !== me && p.username !== ctx.session.username);
  return others.length ? `同组：${others.map((p) => p.display_name).join("、")}` : null;
}

function assignmentCard(a, ctx, when) {
  const inst = institutionOf(ctx, a);
  const agreement = inst.agreement_status && inst.agreement_status !== "normal"
    ? chip(`协议状态：${inst.agreement_status_label || AGREEMENT_LABELS[inst.agreement_status] || inst.agreement_status}`, "danger") : null;
  return h("a.card.task-card", { href: `#/start/${a.id}`, dataset: { assignment: a.id } },
    h("div.card-top",
      h("div.chips", chip(inst.type_label || TYPE_LABELS[inst.type] || "", "type"), chip(a.kind_label || "", "kind"), agreement),
      windowHint(a, when)),
    h("h3.card-title", inst.name),
    h("div.card-meta",
      metaLine("calendar", `检查时间 ${windowLabel(a.window_start, a.window_end)}`),
      metaLine("mapPin", inst.address),
      metaLine("people", coInspectors(a, ctx))),
    h("div.card-action", h("span", "开始检查"), icon("chevronRight", { size: 20 })));
}

function draftCard(inspection, ctx) {
  const a = ctx.assignmentById.get(inspection.assignment_id);
  const inst = institutionOf(ctx, a, inspection);
  const p = ctx.progress.get(inspection.id);
  return h("a.card.draft-card", { href: `#/inspect/${inspection.id}`, dataset: { inspection: inspection.id } },
    h("div.card-top",
      h("div.chips", chip("草稿", "state-draft"), a ? chip(a.kind_label || "", "kind") : null),
      h("span.muted.small", `上次修改 ${momentLabel(inspection.updated_at)}`)),
    h("h3.card-title", inst.name),
    p ? h("div.progress-block",
      h("div.progress-text",
        h("span", "已完成 ", h("b.num", `${p.answered}/${p.total}`), " 项"),
        h("b.num.progress-pct", `${p.percent}%`)),
      h("div.progress", { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(p.percent), "aria-label": "检查进度" },
        h("span", { style: `width:${p.percent}%` })),
      p.failed ? h("div.meta-line.fail-note", icon("cross", { size: 18 }), h("span", `不符合 ${p.failed} 项`)) : null) : null,
    h("div.card-action", h("span", "继续检查"), icon("chevronRight", { size: 20 })));
}

function submittedCard(inspection, ctx) {
  const a = ctx.assignmentById.get(inspection.assignment_id);
  const inst = institutionOf(ctx, a, inspection);
  const server = inspection.server || {};
  const score = server.score || {};
  const total = score.total !== undefined ? score.total : server.score_total;
  const grade = score.grade || server.grade;
  const state = inspection.state;
  const notice = state === "synced" ? noticeLine(ctx.notices[server.inspection_id || inspection.id], { link: false }) : null;
  // A synced card opens the submitted inspection (score, notice, answers); a waiting one the queue.
  return h("a.card.submitted-card", { href: state === "synced" ? `#/submit/${inspection.id}` : "#/sync", dataset: { inspection: inspection.id, state } },
    h("div.card-top",
      h("div.chips", stateChip(state)),
      h("span.muted.small", state === "synced"
        ? `同步于 ${momentLabel(server.synced_at || inspection.updated_at)}`
        : `提交于 ${momentLabel(inspection.submitted_at)}`)),
    h("h3.card-title", inst.name),
    state === "synced"
      ? h("div.official-score",
        h("span.muted", "正式得分"), h("b.num.score-value", scoreLabel(total)),
        grade ? h(`span.grade-badge.${ctx.gradeColour(inspection.checklist_version_id, grade)}`, grade) : null)
      : h("div.meta-line", icon("lock", { size: 18 }), h("span", "已提交并锁定，等待上传")),
    notice);
}

function doneElsewhereCard(a, ctx) {
  const inst = institutionOf(ctx, a);
  const s = a.inspection || {};
  return h("div.card.submitted-card", { dataset: { assignment: a.id, state: "synced" } },
    h("div.card-top", h("div.chips", stateChip("synced"), chip(a.kind_label || "", "kind")),
      s.submitted_at ? h("span.muted.small", `提交于 ${dayLabel(String(s.submitted_at).slice(0, 10))}`) : null),
    h("h3.card-title", inst.name),
    h("div.official-score",
      h("span.muted", "正式得分"), h("b.num.score-value", scoreLabel(s.score_total)),
      s.grade ? h(`span.grade-badge.${ctx.gradeColour(a.checklist && a.checklist.version_id, s.grade)}`, s.grade) : null),
    s.id ? noticeLine(ctx.notices[s.id]) : null);
}

function rejectedCard(inspection, ctx) {
  const a = ctx.assignmentById.get(inspection.assignment_id);
  const inst = institutionOf(ctx, a, inspection);
  const r = inspection.rejection || {};
  const problems = [...(r.problems || []), ...(r.missing_photos || [])];
  return h("a.card.rejected-card", { href: "#/sync", dataset: { inspection: inspection.id, state: "rejected" } },
    h("div.card-top", h("div.chips", stateChip("rejected")), r.at ? h("span.muted.small", momentLabel(r.at)) : null),
    h("h3.card-title", inst.name),
    h("p.reject-message", r.message || "服务器未接受这条检查记录"),
    problems.length ? h("ul.problem-list", problems.slice(0, 3).map((p) => h("li", p)),
      problems.length > 3 ? h("li.muted", `另有 ${problems.length - 3} 条`) : null) : null,
    h("div.card-action", h("span", "查看并处理"), icon("chevronRight", { size: 20 })));
}
