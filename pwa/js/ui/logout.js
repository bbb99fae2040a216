// 退出登录, from the header (every role) and from the sync screen. Work the server has not
// received is never dropped silently: the dialog names each unsynced inspection and what it
// holds, and deleting it takes a second, explicit confirmation (ui.md "Nothing is ever lost").
import { db, unsyncedInspections } from "../db.js";
import { logout } from "../api.js";
import { h } from "./dom.js";
import { toast } from "./toast.js";
import { choose, confirm } from "./dialog.js";
import { STATE_LABELS } from "./format.js";
import { discardInspection, inspectionSummary } from "../views/model.js";

/**
 * Ask, then sign out. Resolves true when signed out, false when the user kept the session.
 * @param {object} app the app object of app.js (session, navigate).
 */
export async function signOut(app) {
  const session = app.session || {};
  const unsynced = await unsyncedInspections();
  if (!unsynced.length) {
    const body = session.role === "inspector"
      ? "本设备上的检查记录都已同步。退出后需要联网才能重新登录。"
      : "退出后需要重新输入用户名和密码才能登录。";
    const ok = await confirm({ id: "confirm-logout", title: "退出登录？", body, confirmText: "退出登录" });
    if (!ok) return false;
    await finish(app);
    return true;
  }
  const institutions = new Map((await db.institutions.toArray()).map((i) => [i.id, i]));
  const details = [];
  for (const i of unsynced) {
    const s = await inspectionSummary(i.id);
    details.push(h("li", h("b", (institutions.get(i.institution_id) || {}).name || "（未知机构）"),
      `：${STATE_LABELS[i.state]}，${s.answers} 项结果、${s.evidence} 张照片、${s.signatures} 个签名`));
  }
  const choice = await choose({
    id: "logout-dialog", tone: "warning",
    title: `还有 ${unsynced.length} 条检查没有同步到服务器`,
    body: h("div",
      h("ul.loss-list#logout-unsynced", details),
      h("p", "选择「退出并保留」：这些记录留在本设备上，重新登录后继续编辑和同步。"),
      h("p.muted.small", "只有在确定不再需要时，才选择删除。")),
    actions: [
      { label: "取消", value: null, kind: "secondary", id: "logout-cancel" },
      { label: "删除记录并退出", value: "delete", kind: "danger", id: "logout-delete" },
      { label: "退出并保留记录", value: "keep", kind: "primary", id: "logout-keep" },
    ],
  });
  if (!choice) return false;
  if (choice === "delete") {
    const sure = await confirm({
      id: "confirm-logout-delete", danger: true,
      title: "确定删除未同步的记录？",
      body: h("div", h("p", `将删除 ${unsynced.length} 条未同步的检查及其照片和签名：`), h("ul.loss-list", details.map((d) => d.cloneNode(true))),
        h("p.warn-text", "服务器上没有这些内容，删除后无法恢复。")),
      confirmText: "删除并退出", cancelText: "返回",
    });
    if (!sure) return false;
    for (const i of unsynced) await discardInspection(i.id);
  }
  await finish(app);
  return true;
}

async function finish(app) {
  await logout();
  app.session = null;
  app.authReason = null;
  app.returnTo = null;
  toast("已退出登录", { kind: "info" });
  app.navigate("#/login");
}
