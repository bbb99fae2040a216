// 同步: the queue with each record's state (草稿 / 待同步 / 同步中 / 已同步 / 被退回) and the reason of
// a rejection; 立即同步; whether storage is persistent; 退出登录, which names unsynced work first.
import { db, getMeta } from "../db.js";
import { on } from "../events.js";
import { isOnline } from "../connection.js";
import { photoProgress, queueStatus, reopen, runQueue } from "../sync-queue.js";
import { persistGranted, requestPersistence, storageEstimate } from "../persist.js";
import { h, replace } from "../ui/dom.js";
import { icon } from "../ui/icons.js";
import { toast } from "../ui/toast.js";
import { confirm } from "../ui/dialog.js";
import { signOut } from "../ui/logout.js";
import { stateChip } from "../ui/status.js";
import { bytesLabel, gradeBandClass, gradeClass, momentLabel, scoreLabel, STATE_LABELS } from "../ui/format.js";
import { FINAL_REJECTIONS, discardInspection, inspectionSummary, progressOf } from "./model.js";

const latest = (a, b) => (!a ? b : !b ? a : Date.parse(a) > Date.parse(b) ? a : b);
const ORDER = { rejected: 0, syncing: 1, queued: 2, draft: 3, synced: 4 };

export async function render(root, _params, app) {
  const statusBox = h("section.panel.sync-status#sync-status");
  const list = h("section.panel.sync-queue", { "aria-labelledby": "queue-title" });
  const storage = h("section.panel.sync-storage#storage-panel");
  const account = h("section.panel.sync-account");
  const stops = [];

  root.append(h("div.narrow",
    h("div.page-head", h("div",
      h("a.back-link", { href: "#/" }, icon("chevronLeft", { size: 20 }), "首页"),
      h("h1", "同步"),
      h("p.muted", "已提交的检查在联网时自动上传；草稿的照片在检查过程中即陆续上传（见",
        h("a", { href: "#/settings" }, "设置"), "）。这里可以查看每条记录的状态。"))),
    statusBox, list, storage, account));

  let busy = false;
  async function paintStatus(state = null) {
    const s = state || (await queueStatus());
    const online = isOnline();
    const run = h("button.btn.primary.large#sync-run", {
      type: "button", disabled: busy || s.syncing,
      onclick: async () => {
        if (!isOnline()) {
          toast("当前离线：联网后会自动同步", { kind: "warning" });
          return;
        }
        busy = true;
        paintStatus();
        try { await runQueue(); } finally { busy = false; paint(); }
      },
    }, icon("sync"), s.syncing || busy ? "正在同步…" : "立即同步");
    replace(statusBox,
      h("div.status-grid",
        h("div.status-cell", h("span.figure-label", "网络"),
          h(`b.conn-word.${online ? "ok-text" : "off-text"}`, icon(online ? "online" : "offline", { size: 20 }), online ? "在线" : "离线")),
        h("div.status-cell", h("span.figure-label", "待同步"), h("b.num#sync-waiting", `${s.waiting} 条`)),
        h("div.status-cell", h("span.figure-label", "上次同步"), h("b.num", momentLabel(latest(s.lastSyncAt, await getMeta("last_bundle_at")))))),
      s.lastError ? h("div.callout.warning#sync-error", icon("warning"),
        h("div", h("p", s.lastError), s.nextRetryAt ? h("p.muted.small", `将于 ${momentLabel(s.nextRetryAt).replace("刚刚", "稍后")} 自动重试`) : null)) : null,
      s.authRequired ? h("div.callout.warning", icon("lock"), h("div", h("p", "登录已失效，同步已暂停；待同步的记录都在本设备上。"),
        h("a.btn.secondary", { href: "#/login", onclick: () => { app.authReason = "登录已失效"; app.returnTo = "/sync"; } }, "重新登录"))) : null,
      h("div.status-actions", run,
        !online ? h("p.muted.small", "离线时记录保存在本设备上，联网后自动上传，无需操作。") : null));
  }

  async function paintList() {
    const [inspections, assignments, institutions, checklists] = await Promise.all([
      db.inspections.toArray(), db.assignments.toArray(), db.institutions.toArray(), db.checklists.toArray(),
    ]);
    const photos = await photoProgress();
    const autoUpload = (await queueStatus()).autoUploadPhotos;
    const instById = new Map(institutions.map((i) => [i.id, i]));
    const assignmentById = new Map(assignments.map((a) => [a.id, a]));
    const checklistById = new Map(checklists.map((c) => [c.version_id, c]));
    inspections.sort((a, b) => (ORDER[a.state] - ORDER[b.state]) || ((b.updated_at || 0) - (a.updated_at || 0)));
    const rows = [];
    for (const inspection of inspections) {
      const inst = instById.get(inspection.institution_id) || (assignmentById.get(inspection.assignment_id) || {}).institution || { name: "（机构资料缺失）" };
      let progress = null;
      if (inspection.state === "draft" || inspection.state === "rejected") {
        const checklist = checklistById.get(inspection.checklist_version_id);
        if (checklist) {
          const findings = await db.findings.where("inspection_id").equals(inspection.id).toArray();
          progress = progressOf(checklist.content, new Map(findings.map((f) => [f.item, f])));
        }
      }
      // A grade's colour by its place in the checklist's bands; by name if the checklist is gone.
      const checklist = checklistById.get(inspection.checklist_version_id);
      const gradeColour = (grade) => (checklist ? gradeBandClass(checklist.content, grade) : gradeClass(grade));
      rows.push(recordRow(inspection, inst, progress, gradeColour, photos.get(inspection.id), autoUpload));
    }
    replace(list,
      h("div.group-head", h("h2#queue-title", "检查记录"), rows.length ? h("span.count.num", String(rows.length)) : null),
      rows.length ? h("ul.record-list#sync-list", rows)
        : h("div.empty-line", icon("info", { size: 20 }), h("span", "本设备上还没有检查记录。开始一次检查后，这里会显示它的同步状态。")));
  }

  /** A draft's photos: how many the server has, how many wait (and when they will go). */
  function photoLine(inspection, counts, autoUpload) {
    if (!counts || !["draft", "rejected", "queued", "syncing"].includes(inspection.state)) return null;
    const { sent, waiting } = counts;
    const when = !waiting ? "" : inspection.state !== "draft" ? "，随记录上传"
      : !autoUpload ? "，提交后上传" : isOnline() ? "，正在后台上传" : "，联网后自动上传";
    return h("p.small.photo-progress", { dataset: { sent: String(sent), waiting: String(waiting) } },
      icon("camera", { size: 16 }),
      h("span", " 照片和签名："),
      h("b.num.ok-text", `已上传 ${sent} 张`), h("span.muted", " · "),
      h(waiting ? "b.num.warn-text" : "span.num.muted", `待上传 ${waiting} 张`),
      when ? h("span.muted", when) : null);
  }

  function recordRow(inspection, inst, progress, gradeColour, photoCounts, autoUpload) {
    const r = inspection.rejection;
    const server = inspection.server || {};
    const score = server.score || {};
    const actions = [];
    if (inspection.state === "draft") {
      actions.push(h("a.btn.secondary", { href: `#/inspect/${inspection.id}` }, "继续检查"));
      actions.push(h("button.btn.ghost.danger-text", { type: "button", onclick: () => discard(inspection, inst) }, icon("trash", { size: 18 }), "放弃草稿"));
    }
    if (inspection.state === "synced") {
      actions.push(h("a.btn.secondary", { href: `#/submit/${inspection.id}` }, "查看检查与整改通知书"));
    }
    if (inspection.state === "rejected") {
      if (!r || !FINAL_REJECTIONS.has(r.code)) {
        actions.push(h("button.btn.primary.fix-rejected", {
          type: "button",
          onclick: async () => {
            await reopen(inspection.id);
            app.navigate(`#/submit/${inspection.id}`);
          },
        }, "修改后重新提交"));
      }
      actions.push(h("button.btn.ghost.danger-text", { type: "button", onclick: () => discard(inspection, inst) }, icon("trash", { size: 18 }), "删除本机记录"));
    }
    return h("li.record", { dataset: { inspection: inspection.id, state: inspection.state } },
      h("div.record-main",
        h("div.record-title", h("b", inst.name), stateChip(inspection.state)),
        h("div.record-meta.muted.small",
          inspection.state === "draft" && progress ? `已完成 ${progress.answered}/${progress.total} 项 · 上次修改 ${momentLabel(inspection.updated_at)}`
            : inspection.state === "synced" ? `同步于 ${momentLabel(server.synced_at)}`
              : inspection.submitted_at ? `提交于 ${momentLabel(inspection.submitted_at)}` : `上次修改 ${momentLabel(inspection.updated_at)}`),
        photoLine(inspection, photoCounts, autoUpload),
        inspection.state === "synced" ? h("div.official-score",
          h("span.muted", "正式得分"), h("b.num.score-value", scoreLabel(score.total)),
          score.grade ? h(`span.grade-badge.${gradeColour(score.grade)}`, score.grade) : null,
          server.message ? h("span.muted.small", server.message) : null) : null,
        (inspection.state === "queued" || inspection.state === "syncing") ? h("p.small.muted", icon("lock", { size: 16 }),
          isOnline() ? " 已锁定，等待上传" : " 已锁定，联网后自动上传") : null,
        r && inspection.state !== "synced" ? h("div.rejection", { role: inspection.state === "rejected" ? "alert" : null },
          h("p.reject-message", icon("warning", { size: 18 }), h("span", r.message || "服务器未接受")),
          (r.problems && r.problems.length) || (r.missing_photos && r.missing_photos.length)
            ? h("ul.problem-list", [...(r.problems || []), ...(r.missing_photos || [])].map((p) => h("li", p))) : null,
          r.code === "cancelled" ? h("p.small", "该检查任务已被取消，无法再提交。如有疑问请联系监管人员；本机记录会保留，直到您删除它。") : null) : null),
      actions.length ? h("div.record-actions", actions) : null);
  }

  async function discard(inspection, inst) {
    const s = await inspectionSummary(inspection.id);
    const ok = await confirm({
      id: "confirm-discard", danger: true,
      title: inspection.state === "draft" ? "放弃这份草稿？" : "删除这条本机记录？",
      body: h("div",
        h("p", `将从本设备上删除「${inst.name}」的检查（${STATE_LABELS[inspection.state]}）：`),
        h("ul.loss-list", h("li", `${s.answers} 项检查结果`), h("li", `${s.evidence} 张佐证照片`), h("li", `${s.signatures} 个签名`)),
        h("p.warn-text", "这些内容服务器上没有，删除后无法恢复。")),
      confirmText: "删除", cancelText: "保留",
    });
    if (!ok) return;
    await discardInspection(inspection.id);
    toast("已删除", { kind: "info" });
    paint();
  }

  async function paintStorage() {
    const granted = await persistGranted();
    const { usage, quota } = await storageEstimate();
    replace(storage,
      h("h2", "本机存储"),
      h("div.storage-line",
        granted
          ? h("span.chip.ok#persist-state", icon("shield", { size: 16 }), "存储已持久化")
          : h("span.chip.warning#persist-state", icon("warning", { size: 16 }), "未获持久化"),
        usage !== null ? h("span.muted.num", `已用 ${bytesLabel(usage)}${quota ? ` / 可用 ${bytesLabel(quota)}` : ""}`) : null),
      h("p.muted.small", granted
        ? "浏览器承诺不会在空间紧张时自动清除本应用的数据，未同步的记录是安全的。"
        : "浏览器可能在存储空间紧张时清除网站数据。请尽快联网同步；将本应用添加到主屏幕通常可以获得持久化存储。"),
      granted ? null : h("button.btn.secondary", {
        type: "button",
        onclick: async () => {
          const ok = await requestPersistence();
          toast(ok ? "已获得持久化存储" : "浏览器未同意持久化存储", { kind: ok ? "success" : "warning" });
          paintStorage();
        },
      }, "再次申请"));
  }

  async function paintAccount() {
    const session = app.session || {};
    const device = await getMeta("device_id");
    replace(account,
      h("h2", "账号"),
      h("dl.facts.compact",
        h("div", h("dt", "当前用户"), h("dd", `${session.display_name || ""}（${session.username || ""}）`)),
        h("div", h("dt", "角色与辖区"), h("dd", [session.role_label, session.region_name].filter(Boolean).join(" · ") || "—")),
        h("div", h("dt", "设备编号"), h("dd.num.small", device || "—"))),
      h("button.btn.secondary#logout", { type: "button", onclick: () => signOut(app) }, icon("logout", { size: 20 }), "退出登录"));
  }

  async function paint() {
    await Promise.all([paintStatus(), paintList()]);
  }

  let timer = null;
  const repaint = () => { clearTimeout(timer); timer = setTimeout(() => paint().catch(console.error), 80); };
  stops.push(on("sync-state", (state) => { paintStatus(state).catch(console.error); repaint(); }));
  stops.push(on("inspection-synced", repaint));
  stops.push(on("inspection-rejected", repaint));
  stops.push(on("connection", repaint));
  stops.push(on("persist", () => paintStorage()));

  await Promise.all([paint(), paintStorage(), paintAccount()]);
  return () => { clearTimeout(timer); stops.forEach((stop) => stop()); };
}
