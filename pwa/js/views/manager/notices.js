// 整改通知书 (manager): what is new since the last visit, then the institution's notices with
// status, nearest deadline (剩余 N 天 / 已逾期 N 天) and progress.
import { h, replace } from "../../ui/dom.js";
import { icon } from "../../ui/icons.js";
import { gradeClass, scoreLabel } from "../../ui/format.js";
import {
  call, chip, daysChip, errorText, failurePanel, fullDay, momentText, noticeStatusChip, shortDay,
} from "./common.js";

export async function render(root, _params, app) {
  const session = app.session || {};
  let page;
  let updates = null;
  try {
    [page, updates] = await Promise.all([
      call("/notices?limit=100"),
      call("/updates").catch((error) => ({ error })),
    ]);
  } catch (error) {
    replace(root, head(session), failurePanel(error, () => app.refresh()));
    return null;
  }
  // What the manager did is not news to them (the server leaves it out; this is a second guard).
  const hadEvents = !!(updates && !updates.error && updates.count);
  if (updates && !updates.error) {
    const events = updates.events.filter((e) => !isMine(e, session));
    updates = { ...updates, events, count: events.length };
  }
  // Score and grade are on the detail only: a manager has a handful of notices.
  const details = await Promise.all(page.items.map((n) => call(`/notices/${n.id}`).catch(() => null)));
  const byId = new Map(details.filter(Boolean).map((d) => [d.id, d]));

  replace(root,
    head(session),
    h("div.m-layout",
      h("section.m-updates", { "aria-labelledby": "m-updates-title", id: "m-updates" },
        h("div.group-head", h("h2#m-updates-title", "最新动态"),
          updates && updates.count ? h("span.count.num", String(updates.count)) : null),
        updatesBody(updates)),
      h("section.m-notices", { "aria-labelledby": "m-notices-title" },
        h("div.group-head", h("h2#m-notices-title", "整改通知书"),
          page.total ? h("span.count.num", String(page.total)) : null),
        page.items.length
          ? h("div.m-list", page.items.map((n) => noticeCard(n, byId.get(n.id))))
          : h("div.empty-line", icon("info", { size: 20 }), h("span", "暂无整改通知书。检查后如有需要整改的问题，通知书会显示在这里。")))));

  // Shown: remember the moment, so the next visit lists only what is newer.
  if (hadEvents) {
    call("/updates/seen", { method: "POST", json: { at: updates.server_time } }).catch(() => {});
  }
  return null;
}

/** Whether the current user did this (by id or username when the API gives them, else by name). */
function isMine(e, session) {
  if (e.actor_id) return e.actor_id === session.user_id;
  if (e.actor_username) return e.actor_username === session.username;
  return e.actor_role === "manager" && !!e.actor_name && e.actor_name === session.display_name;
}

function head(session) {
  return h("div.page-head.m-head",
    h("div",
      h("h1", "整改通知书"),
      h("p.muted", [session.institution_name, session.display_name ? `${session.display_name}（${session.role_label || "机构医保负责人"}）` : null].filter(Boolean).join(" · "))));
}

function updatesBody(updates) {
  if (!updates) return null;
  if (updates.error) return h("div.callout.warning", icon("warning"), h("p", `最新动态暂时无法获取：${errorText(updates.error)}`));
  if (!updates.count) {
    return h("div.empty-line", icon("check", { size: 20 }), h("span", updates.since ? `自 ${momentText(updates.since)} 以来没有新动态。` : "暂无新动态。"));
  }
  return h("ol.m-feed", updates.events.slice().reverse().map((e) => {
    const href = e.task_id ? `#/m/task/${e.task_id}` : `#/m/notice/${e.notice_id}`;
    const where = [e.notice_number, e.task_seq ? `第 ${e.task_seq} 项` : null].filter(Boolean).join(" ");
    return h("li", h("a.m-feed-item", { href, dataset: { kind: e.kind } },
      h("span.m-feed-dot", { "aria-hidden": "true" }),
      h("div.m-feed-main",
        h("div.m-feed-top", h("strong", e.label), h("span.muted.small", momentText(e.at))),
        where ? h("div.small.muted", where) : null,
        e.text && e.text !== e.notice_number ? h("p.m-feed-text", e.text) : null,
        e.actor_name ? h("div.small.muted", e.actor_name) : null),
      icon("chevronRight", { size: 20 })));
  }));
}

function noticeCard(n, detail) {
  const done = n.task_count - n.open_count;
  const percent = n.task_count ? Math.round((done / n.task_count) * 100) : 0;
  const score = detail ? detail.score_total : null;
  const grade = detail ? detail.grade : null;
  return h("a.card.m-notice-card", { href: `#/m/notice/${n.id}`, dataset: { notice: n.id } },
    h("div.card-top",
      h("div.chips", noticeStatusChip(n), n.overdue_count ? chip(`${n.overdue_count} 项逾期`, "danger") : null,
        n.answered_count ? chip(`${n.answered_count} 项待验收`, "neutral") : null),
      n.status !== "closed" ? daysChip({ days_left: n.days_left, overdue: n.overdue_count > 0 && n.days_left < 0, days_overdue: n.days_left < 0 ? -n.days_left : 0 }) : null),
    h("h3.card-title.m-number", n.number || "（未编号）"),
    h("div.m-card-facts",
      h("div", h("span.muted", "下发日期"), h("b", fullDay(n.issue_date))),
      h("div", h("span.muted", "检查日期"), h("b", shortDay(n.inspection_date))),
      h("div", h("span.muted", "检查得分"), h("b.num", scoreLabel(score)), grade ? h(`span.grade-badge.${gradeClass(grade)}`, grade) : null),
      n.status !== "closed" && n.next_deadline ? h("div", h("span.muted", "最近期限"), h("b", fullDay(n.next_deadline))) : null),
    h("div.progress-block",
      h("div.progress-text",
        h("span", "已完成 ", h("b.num.m-progress", `${done}/${n.task_count}`), " 项"),
        h("b.num.progress-pct", `${percent}%`)),
      h("div.progress", { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(percent), "aria-label": "整改进度" },
        h("span", { style: `width:${percent}%` }))),
    n.objection_open && n.objection_deadline ? h("div.meta-line", icon("flag", { size: 18 }), h("span", `申诉期至 ${fullDay(n.objection_deadline)}`)) : null,
    h("div.card-action", h("span", "查看整改事项"), icon("chevronRight", { size: 20 })));
}
