// The desk (工作台) of 监管人员 and 系统管理员: a navigation with counts and the module named by the
// first segment of `#/desk/<module>/<rest…>?<query>`. Loaded only when a desk user signs in; its
// files and styles are not part of the inspector's offline shell.
import { h, replace } from "../../ui/dom.js";
import { icon } from "../../ui/icons.js";
import { get } from "./common/http.js";
import { failure, loading } from "./common/page.js";
import { deskHash } from "./common/url.js";
import { modulesFor } from "./modules.js";

const CSS_HREF = "/css/desk.css";
const COUNTS_TTL_MS = 15_000;
let counts = null;
let countsAt = 0;
let countsLoading = null;
// Each render of the desk gets a number: a module still loading data for a screen the user has
// already left must not write its state into the address of the screen now shown.
let renders = 0;

/** Add the desk's stylesheet once (it is not in index.html, which is the inspector's shell). */
function ensureStyles() {
  if (document.querySelector(`link[href="${CSS_HREF}"]`)) return Promise.resolve();
  return new Promise((resolve) => {
    const link = h("link", { rel: "stylesheet", href: CSS_HREF });
    link.addEventListener("load", resolve);
    link.addEventListener("error", resolve);
    document.head.append(link);
  });
}

/** Navigation counts (GET /api/desk/counts), kept for a short while between screens. */
async function loadCounts(force = false) {
  if (!force && counts && Date.now() - countsAt < COUNTS_TTL_MS) return counts;
  if (!countsLoading) {
    countsLoading = get("/api/desk/counts")
      .then((body) => { counts = body || {}; countsAt = Date.now(); return counts; })
      .catch(() => counts || {})
      .finally(() => { countsLoading = null; });
  }
  return countsLoading;
}

function countOf(module, values) {
  if (!module.count || !values) return null;
  const keys = Array.isArray(module.count) ? module.count : [module.count];
  const found = keys.filter((k) => Number.isFinite(values[k]));
  return found.length ? found.reduce((sum, k) => sum + values[k], 0) : null;
}

function fillCounts(nav, modules, values) {
  for (const module of modules) {
    const badge = nav.querySelector(`[data-module="${module.id}"] .d-nav-count`);
    if (!badge) continue;
    const n = countOf(module, values);
    badge.hidden = !n;
    badge.textContent = n ? String(n) : "";
    badge.setAttribute("aria-label", n ? `${n} 项` : "");
  }
}

function navigation(modules, current) {
  return h("nav.d-nav", { "aria-label": "工作台导航" },
    h("div.d-nav-title", icon("shield", { size: 20 }), "工作台"),
    h("ul", modules.map((m) => h("li", { dataset: { module: m.id } },
      h("a.d-nav-link", { href: deskHash(m.id), "aria-current": m.id === current ? "page" : null },
        m.icon ? icon(m.icon, { size: 20 }) : null,
        h("span.d-nav-label", m.label),
        h("span.d-nav-count.num", { hidden: true }))))));
}

function welcome(session) {
  return h("div.panel.empty",
    icon("shield", { size: 32 }),
    h("h1", "工作台"),
    h("p", `${session.display_name || session.username}，您好。工作台的功能模块正在准备中。`));
}

/** Render the desk: navigation, then the chosen module into the content area. */
export async function render(el, params, app) {
  const token = ++renders;
  await ensureStyles();
  const session = app.session;
  const modules = modulesFor(session.role);
  const [first, ...rest] = params.path || [];
  const module = modules.find((m) => m.id === first) || null;
  if (first && !module) {
    history.replaceState(null, "", `/${deskHash(modules[0] ? modules[0].id : "")}`);
  }
  const chosen = module || modules[0] || null;
  const nav = navigation(modules, chosen && chosen.id);
  const content = h("section.d-content", { "aria-live": "polite" });
  el.classList.add("d-desk");
  replace(el, nav, content);

  loadCounts().then((values) => fillCounts(nav, modules, values));
  if (!chosen) {
    replace(content, welcome(session));
    return null;
  }

  const query = params.query || {};
  const ctx = {
    app,
    session,
    module: chosen.id,
    path: module ? rest : [],
    query,
    navigate: (hash) => app.navigate(hash),
    /** Replace the query of the current view (filters), keeping the path; re-renders. */
    setQuery(next, { replace: replaceEntry = true } = {}) {
      const hash = deskHash([chosen.id, ...(module ? rest : [])], next);
      app.navigate(hash, { replace: replaceEntry });
    },
    /** Whether this screen is still the one shown (the user may have moved on meanwhile). */
    isCurrent: () => token === renders,
    /** Record the screen's state (a selected row, a tab) in the address without re-rendering. */
    replaceUrl(hash) {
      if (token === renders) history.replaceState(null, "", `/${hash}`);
    },
    refreshCounts: () => loadCounts(true).then((values) => fillCounts(nav, modules, values)),
    title(text) { document.title = text ? `${text} · 工作台` : "工作台"; },
  };
  ctx.title(chosen.label);
  replace(content, loading());
  try {
    const view = await chosen.load();
    return (await view.render(content, ctx)) || null;
  } catch (error) {
    console.error(error);
    replace(content, failure(error, () => app.refresh()));
    return null;
  }
}
