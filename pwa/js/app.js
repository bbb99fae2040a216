// Start-up, the hash router, the header status strip and the auth-required flow.
// Screens live in js/views/ (one module per screen); they get a fresh element to fill and the
// `app` object below, and may return a cleanup function.
import { db, getMeta } from "./db.js";
import { on } from "./events.js";
import { isOnline, startConnectionMonitor } from "./connection.js";
import { startBundleSync } from "./bundle.js";
import { startSyncEngine, queueStatus, runQueue } from "./sync-queue.js";
import { requestPersistence } from "./persist.js";
import { registerServiceWorker, applyUpdate } from "./sw-register.js";
import { momentLabel } from "./ui/format.js";
import { icon } from "./ui/icons.js";
import { toast } from "./ui/toast.js";
import { parseQrPayload } from "./ui/qr-scanner.js";
import { replace } from "./ui/dom.js";
import { flushWrites } from "./views/model.js";
import { setupHeader, showUser as showHeaderUser } from "./ui/header.js";

const VIEWS = {
  login: () => import("./views/login.js"),
  home: () => import("./views/home.js"),
  start: () => import("./views/start.js"),
  form: () => import("./views/form.js"),
  sign: () => import("./views/sign.js"),
  submit: () => import("./views/submit.js"),
  sync: () => import("./views/sync.js"),
  settings: () => import("./views/settings.js"),
  "m-notices": () => import("./views/manager/notices.js"),
  "m-notice": () => import("./views/manager/notice.js"),
  "m-task": () => import("./views/manager/task.js"),
  // The bureau's desk (监管人员, 系统管理员): loaded only when a desk user signs in, and never
  // part of the inspector's offline shell.
  desk: () => import("./views/desk/shell.js"),
};

/** Roles that work at the desk (工作台) rather than on the inspector's screens. */
const DESK_ROLES = new Set(["supervisor", "admin"]);

/** Route table: hash path → view and params. */
function match(path) {
  const parts = path.replace(/^\/+|\/+$/g, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [head, ...rest] = parts;
  if (!head) return { view: "home", params: {} };
  switch (head) {
    case "login": return { view: "login", params: {} };
    case "start": return { view: "start", params: { assignmentId: rest[0] || null } };
    case "inspect": return rest[0] ? { view: "form", params: { inspectionId: rest[0], sectionId: rest[1] || null, itemId: rest[2] || null } } : null;
    case "sign": return rest[0] ? { view: "sign", params: { inspectionId: rest[0] } } : null;
    case "submit": return rest[0] ? { view: "submit", params: { inspectionId: rest[0] } } : null;
    case "sync": return { view: "sync", params: {} };
    case "settings": return { view: "settings", params: {} };
    case "m":
      if (!rest[0]) return { view: "m-notices", params: {} };
      if (rest[0] === "notice" && rest[1]) return { view: "m-notice", params: { noticeId: rest[1] } };
      if (rest[0] === "task" && rest[1]) return { view: "m-task", params: { taskId: rest[1] } };
      return null;
    case "desk": return { view: "desk", params: { path: rest } };
    default: return null;
  }
}

const main = document.getElementById("view");
let renderSeq = 0;
let cleanup = null;
let beforeLeave = null;
let currentRoute = null;

/** What the screens share. */
export const app = {
  session: null,
  /** Why the login screen is shown (auth-required), and where to go back after it. */
  authReason: null,
  returnTo: null,
  /** A message for the next screen (e.g. the result of a scanned poster link). */
  notice: null,
  navigate(hash, { replace: replaceEntry = false } = {}) {
    const target = hash.startsWith("#") ? hash : `#${hash}`;
    if (location.hash === target) return route();
    if (replaceEntry) {
      history.replaceState(null, "", `/${target}`);
      return route();
    }
    location.hash = target;
    return null;
  },
  /** Re-render the current screen (after data it shows changed). */
  refresh: () => route(),
  get route() { return currentRoute; },
};

async function route() {
  const seq = ++renderSeq;
  // Whatever the screen being left still has to write (a signature just drawn, a note being
  // typed) reaches IndexedDB before the next screen reads it.
  if (beforeLeave) {
    const hook = beforeLeave;
    beforeLeave = null;
    try { await hook(); } catch (error) { console.error(error); }
  }
  await flushWrites();
  if (seq !== renderSeq) return;
  const path = location.hash.replace(/^#/, "") || "/";
  const [pathOnly, queryString = ""] = path.split("?");
  let found = match(pathOnly);
  if (!found) {
    history.replaceState(null, "", "/#/");
    found = { view: "home", params: {} };
  }
  if (!app.session && found.view !== "login") {
    app.returnTo = path;
    history.replaceState(null, "", "/#/login");
    found = { view: "login", params: {} };
  } else if (app.session && found.view === "login" && !app.authReason) {
    history.replaceState(null, "", "/#/");
    found = { view: "home", params: {} };
  }
  // 机构医保负责人: the rectification screens only (the inspector screens are not theirs).
  if (app.session && app.session.role === "manager" && found.view !== "login" && !found.view.startsWith("m-")) {
    history.replaceState(null, "", "/#/m");
    found = { view: "m-notices", params: {} };
  }
  // 监管人员 and 系统管理员 work at the desk; the inspector's screens would offer them what the
  // server refuses (开始检查, 同步). Everyone else is kept out of the desk.
  const atDesk = found.view === "desk";
  if (app.session && found.view !== "login" && DESK_ROLES.has(app.session.role) !== atDesk) {
    if (DESK_ROLES.has(app.session.role)) {
      history.replaceState(null, "", "/#/desk");
      found = { view: "desk", params: { path: [] } };
    } else {
      history.replaceState(null, "", "/#/");
      found = app.session.role === "manager" ? { view: "m-notices", params: {} } : { view: "home", params: {} };
    }
  }

  found.params.query = Object.fromEntries(new URLSearchParams(queryString));
  const module = await VIEWS[found.view]();
  if (seq !== renderSeq) return;
  const screen = document.createElement("div");
  screen.className = `screen screen-${found.view}`;
  let result;
  try {
    result = await module.render(screen, found.params, app);
  } catch (error) {
    console.error(error);
    replace(screen, errorPanel(error));
  }
  if (seq !== renderSeq) {
    if (typeof result === "function") result();
    else if (result && result.cleanup) result.cleanup();
    return;
  }
  if (cleanup) {
    try { cleanup(); } catch (error) { console.error(error); }
  }
  cleanup = typeof result === "function" ? result : (result && result.cleanup) || null;
  beforeLeave = (result && typeof result.beforeLeave === "function") ? result.beforeLeave : null;
  const sameView = currentRoute && currentRoute.view === found.view;
  currentRoute = { ...found, path };
  document.body.dataset.view = found.view;
  main.replaceChildren(screen);
  if (result && typeof result.mounted === "function") result.mounted();
  else if (!sameView) window.scrollTo(0, 0);
  if (!sameView) main.focus({ preventScroll: true });
  document.body.dataset.ready = "1";
}

function errorPanel(error) {
  const box = document.createElement("div");
  box.className = "panel empty";
  box.append(icon("warning", { size: 32 }));
  const p = document.createElement("p");
  p.textContent = `页面打开失败：${error && error.message ? error.message : error}。已保存的记录不受影响。`;
  const back = document.createElement("a");
  back.className = "btn secondary";
  back.href = "#/";
  back.textContent = "返回首页";
  box.append(p, back);
  return box;
}

// --- header status strip -------------------------------------------------------------------

const strip = {
  conn: document.getElementById("conn-status"),
  queue: document.getElementById("queue-status"),
  count: document.getElementById("queue-count"),
  last: document.getElementById("last-sync-time"),
  user: document.getElementById("header-user"),
  sync: document.getElementById("sync-now"),
};
let lastSyncAt = null;
let syncing = false;

function showConnection(online) {
  strip.conn.dataset.online = online ? "1" : "0";
  replace(strip.conn, icon(online ? "online" : "offline", { size: 20 }), online ? "在线" : "离线");
  strip.conn.title = online ? "已连接服务器" : "未连接服务器：记录保存在本设备，联网后自动同步";
}

/** 上次同步: the latest successful exchange with the server (a push or a bundle pull). */
function noteContact(moment) {
  if (moment && (!lastSyncAt || Date.parse(moment) > Date.parse(lastSyncAt))) lastSyncAt = moment;
}

function showQueue({ waiting, syncing: busy, lastSyncAt: last } = {}) {
  if (Number.isFinite(waiting)) {
    strip.count.textContent = String(waiting);
    strip.queue.dataset.waiting = String(waiting);
  }
  noteContact(last);
  strip.last.textContent = momentLabel(lastSyncAt);
  syncing = !!busy;
  strip.sync.classList.toggle("spinning", syncing);
  strip.sync.setAttribute("aria-busy", syncing ? "true" : "false");
}

function showUser(session) {
  // The user menu (退出登录 for every role) and the inspector-only items: ui/header.js.
  showHeaderUser(session);
}

/** Count waiting records from IndexedDB (also right before the sync engine reports). */
async function countWaiting() {
  const waiting = await db.inspections.where("state").anyOf("queued", "syncing").count();
  noteContact(await getMeta("last_bundle_at"));
  showQueue({ waiting, syncing, lastSyncAt: await getMeta("last_sync_at") });
  return waiting;
}

strip.sync.addEventListener("click", async () => {
  if (!isOnline()) {
    toast("当前离线：联网后会自动同步，记录已安全保存在本设备上", { kind: "warning" });
    return;
  }
  const waiting = await countWaiting();
  toast(waiting ? `正在同步 ${waiting} 条记录…` : "正在检查更新…", { kind: "info", timeout: 2000 });
  try {
    await runQueue();
  } catch (error) {
    // The sync engine reports its own errors through sync-state.
  }
  countWaiting();
});

setInterval(() => { countWaiting().catch(() => {}); }, 30_000);

// --- start-up ------------------------------------------------------------------------------

/** A poster link (/s/{token}): open the start screen of that institution's assignment. */
async function handlePosterLink() {
  const m = location.pathname.match(/^\/s\/([^/?#]+)\/?$/);
  if (!m) return;
  const token = parseQrPayload(`${location.origin}/s/${m[1]}`);
  history.replaceState(null, "", "/");
  if (!token) {
    app.notice = { kind: "error", text: "这个二维码链接无效，不是本系统的机构检查码。" };
    history.replaceState(null, "", "/#/");
    return;
  }
  if (!app.session) {
    app.returnTo = `/start?token=${token}`;
    history.replaceState(null, "", `/#/start?token=${encodeURIComponent(token)}`);
    return;
  }
  history.replaceState(null, "", `/#/start?token=${encodeURIComponent(token)}`);
}

async function boot() {
  app.session = (await getMeta("session")) || null;
  setupHeader(app);
  showUser(app.session);
  showConnection(false);
  strip.conn.dataset.online = "unknown";
  await handlePosterLink();

  on("connection", ({ online }) => {
    showConnection(online);
    if (online) countWaiting();
  });
  on("sync-state", (state) => {
    showQueue(state);
    if (typeof state.online === "boolean") showConnection(state.online);
  });
  on("session", (session) => {
    app.session = session;
    showUser(session);
  });
  on("inspection-synced", () => countWaiting());
  on("bundle-updated", () => countWaiting());
  on("inspection-rejected", ({ rejection }) => {
    countWaiting();
    toast(`有检查记录被服务器退回：${(rejection && rejection.message) || "请查看同步页"}`, { kind: "error", timeout: 8000 });
  });
  on("auth-required", ({ reason } = {}) => {
    // Without a session there is nothing to renew: the login screen is shown anyway.
    if (!app.session) return;
    if (currentRoute && currentRoute.view === "login") return;
    app.authReason = reason || "登录已失效";
    app.returnTo = currentRoute ? currentRoute.path : "/";
    history.replaceState(null, "", "/#/login");
    route();
  });
  on("app-update-ready", () => {
    document.getElementById("update-banner").hidden = false;
  });
  document.getElementById("update-apply").addEventListener("click", async (event) => {
    event.currentTarget.disabled = true;
    try {
      const { flushWrites } = await import("./views/model.js");
      await flushWrites();
      await applyUpdate();
    } catch (error) {
      event.currentTarget.disabled = false;
      toast(`更新失败：${error.message}`, { kind: "error" });
    }
  });

  window.addEventListener("hashchange", () => route());
  await route();

  // The platform: none of it may keep the first screen from showing.
  registerServiceWorker().catch((error) => console.warn("service worker:", error));
  requestPersistence().catch(() => {});
  startConnectionMonitor().then((online) => showConnection(online)).catch(() => showConnection(false));
  startBundleSync();
  try {
    startSyncEngine();
    const status = await queueStatus();
    if (status) showQueue(status);
  } catch (error) {
    console.error("sync engine:", error);
  }
  countWaiting();
}

boot().catch((error) => {
  console.error(error);
  replace(main, errorPanel(error));
  document.body.dataset.ready = "1";
});
