// 检查计划 (supervisors, admins): one module with a tab per task, each tab a URL
// (`#/desk/plan/<tab>?filters`) and its own file, loaded when opened.
import { h, replace } from "../../../ui/dom.js";
import { pageHead, tabs } from "../common/page.js";
import { deskHash } from "../common/url.js";

const TABS = [
  { id: "list", label: "任务列表", load: () => import("./plan-list.js") },
  { id: "calendar", label: "日历", load: () => import("./plan-list.js") },
  { id: "new", label: "新建检查任务", load: () => import("./plan-new.js") },
  { id: "bulk", label: "批量日常检查", load: () => import("./plan-bulk.js") },
  { id: "relations", label: "回避", load: () => import("./relations.js") },
];

/** Render the module: the tabs, then the chosen tab into the area under them. */
export async function render(el, ctx) {
  const tab = TABS.find((t) => t.id === ctx.path[0]) || TABS[0];
  const area = h("div.d-plan-tab", { id: `plan-${tab.id}` });
  replace(el,
    pageHead("检查计划", "本地区的检查任务、新建与批量安排、回避关系",
      h("a.btn.secondary", { href: deskHash("draws") }, "双随机抽取")),
    tabs(TABS.map((t) => ({ id: t.id, label: t.label, href: deskHash(["plan", t.id]) })), tab.id),
    area);
  ctx.title(`${tab.label} · 检查计划`);
  const view = await tab.load();
  return view.render(area, { ...ctx, path: ctx.path.slice(1), tab: tab.id });
}
