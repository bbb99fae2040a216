// The desk's modules, in navigation order. Each is loaded on first use; `count` names the key of
// GET /api/desk/counts shown beside it (a sum when it is a list). `roles`: who sees it (the server
// refuses the others anyway).
const STAFF = ["supervisor", "admin"];

export const MODULES = [
  { id: "todo", label: "待办", icon: "list", roles: STAFF, count: ["answers", "objections", "draft_notices"], load: () => import("./review/todo.js") },
  { id: "overdue", label: "逾期整改", icon: "warning", roles: STAFF, count: "overdue", load: () => import("./review/overdue.js") },
  { id: "notices", label: "整改通知书", icon: "file", roles: STAFF, load: () => import("./review/notices.js") },
  { id: "plan", label: "检查计划", icon: "calendar", roles: STAFF, load: () => import("./planning/plan.js") },
  { id: "draws", label: "双随机抽取", icon: "people", roles: STAFF, load: () => import("./planning/draws.js") },
  { id: "dashboard", label: "看板", icon: "flag", roles: STAFF, load: () => import("./tracking/dashboard.js") },
  { id: "archive", label: "机构档案", icon: "building", roles: STAFF, load: () => import("./tracking/archive.js") },
  { id: "exports", label: "导出", icon: "file", roles: STAFF, load: () => import("./tracking/exports.js") },
  { id: "admin", label: "系统管理", icon: "database", roles: ["admin"], load: () => import("./admin/index.js") },
];

/** The modules a role may open, in navigation order. */
export function modulesFor(role) {
  return MODULES.filter((m) => !m.roles || m.roles.includes(role));
}

export { STAFF };
