// 系统管理 (admin only): one module with a tab per concern. Each tab is a URL
// (`#/desk/admin/<tab>?filters`) and its own file, loaded when opened.
import { h, replace } from "../../../ui/dom.js";
import { pageHead, tabs } from "../common/page.js";
import { deskHash } from "../common/url.js";

export const TABS = [
  { id: "users", label: "用户", load: () => import("./users.js") },
  { id: "institutions", label: "机构", load: () => import("./institutions.js") },
  { id: "regions", label: "地区与签发机关", load: () => import("./regions.js") },
  { id: "checklists", label: "检查表版本", load: () => import("./checklists.js") },
  { id: "qr", label: "二维码", load: () => import("./qr.js") },
  { id: "audit", label: "审计日志", load: () => import("./audit.js") },
];

/** Render the module: the tabs, then the chosen tab into the area under them. */
export async function render(el, ctx) {
  const tab = TABS.find((t) => t.id === ctx.path[0]) || TABS[0];
  const area = h("div.d-admin-tab", { id: `admin-${tab.id}` });
  replace(el,
    pageHead("系统管理", "用户、机构、地区与签发机关、检查表版本、二维码与审计日志"),
    tabs(TABS.map((t) => ({ id: t.id, label: t.label, href: deskHash(["admin", t.id]) })), tab.id),
    area);
  ctx.title(`${tab.label} · 系统管理`);
  const view = await tab.load();
  return view.render(area, { ...ctx, path: ctx.path.slice(1), tab: tab.id });
}
