// 待办: answers waiting for 验收, objections (申诉) to decide, draft notices to confirm. The queue on
// the left (oldest first), the selected item's evidence beside its decision. Each answer is
// looked at and decided on its own (no bulk accept); the keyboard moves through the queue:
// j / ↓ next, k / ↑ previous, a 验收通过, r 退回 (to the comment first).
import { h, replace } from "../../../ui/dom.js";
import { icon } from "../../../ui/icons.js";
import { get, post, errorText } from "../common/http.js";
import { failure, formMessage, pageHead, tabs } from "../common/page.js";
import { deskHash } from "../common/url.js";
import { dayText, documentButton, institutionText, momentText, noticePill, taskEvidence } from "./common.js";

const TABS = [
  { id: "answers", label: "待验收", count: "answers", empty: "没有等待验收的整改报告。" },
  { id: "objections", label: "待处理申诉", count: "objections", empty: "没有待处理的申诉。" },
  { id: "drafts", label: "待确认通知书", count: "draft_notices", empty: "没有待确认的通知书草稿。" },
];

const keyOf = (item) => item.task_id || item.notice_id;

export async function render(el, ctx) {
  const tab = TABS.find((t) => t.id === ctx.query.tab) || TABS[0];
  ctx.title(`待办 · ${tab.label}`);
  let items;
  let counts;
  try {
    [items, counts] = await Promise.all([
      get("/api/rectification/queue", { kind: tab.id }).then((page) => page.items),
      get("/api/desk/counts").catch(() => ({})),
    ]);
  } catch (error) {
    replace(el, failure(error, () => ctx.navigate(location.hash)));
    return null;
  }

  const tabBar = () => tabs(TABS.map((t) => ({
    id: t.id, label: t.label, href: deskHash("todo", { tab: t.id }), count: counts[t.count],
  })), tab.id);
  const tabHolder = h("div", tabBar());
  const list = h("ol.d-queue-list#d-queue", { "aria-label": `${tab.label}列表` });
  const detail = h("section.d-decision#d-decision", { "aria-live": "polite" });
  const status = h("p.d-msg.ok#d-todo-status", { hidden: true, role: "status" });
  replace(el,
    pageHead("待办", "逐项查看证据后作出决定。键盘：j / ↓ 下一项，k / ↑ 上一项，a 验收通过，r 退回"),
    tabHolder,
    status,
    h("div.d-review", h("aside.d-queue", list), detail));

  let index = Math.max(0, items.findIndex((i) => keyOf(i) === ctx.query.id));
  let loadToken = 0;
  let actions = {};

  function drawList() {
    replace(list, items.length ? items.map((item, i) => h("li",
      h("button.d-queue-item", {
        type: "button",
        "aria-current": i === index ? "true" : null,
        dataset: { key: keyOf(item), kind: item.kind },
        onclick: () => select(i),
      },
        h("span.d-queue-title", item.kind === "draft" ? institutionText(item.institution) : `${item.notice_number || ""} 第 ${item.seq} 项`),
        h("span.d-queue-text", item.kind === "draft" ? item.text : item.item_text),
        h("span.d-queue-meta",
          item.kind === "draft" ? `生成于 ${momentText(item.since)}` : item.institution.name,
          h("span.d-queue-days.num", { class: item.days_waiting >= 3 ? "late" : null }, item.days_waiting ? `已等待 ${item.days_waiting} 天` : "今天"))))) : h("li.d-queue-empty", tab.empty));
  }

  function remember() {
    const current = items[index];
    const hash = deskHash("todo", { tab: tab.id, id: current ? keyOf(current) : null });
    ctx.replaceUrl(hash);
  }

  async function select(i, { focus = true } = {}) {
    if (!items.length) {
      index = 0;
      drawList();
      remember();
      replace(detail, h("div.panel.empty.d-done", icon("check", { size: 32 }), h("p", tab.empty)));
      actions = {};
      return;
    }
    index = Math.min(Math.max(i, 0), items.length - 1);
    drawList();
    remember();
    const button = list.querySelector(`[aria-current="true"]`);
    if (button) { button.scrollIntoView({ block: "nearest" }); if (focus) button.focus({ preventScroll: true }); }
    const item = items[index];
    const token = ++loadToken;
    replace(detail, h("div.d-loading", "正在加载…"));
    try {
      const body = item.kind === "draft"
        ? await get(`/api/rectification/notices/${item.notice_id}`)
        : await get(`/api/rectification/tasks/${item.task_id}`);
      if (token !== loadToken) return;
      replace(detail, item.kind === "answer" ? answerDecision(body) : item.kind === "objection" ? objectionDecision(body) : draftDecision(body));
    } catch (error) {
      if (token === loadToken) replace(detail, failure(error, () => select(index)));
    }
  }

  async function decided(message) {
    items.splice(index, 1);
    formMessage(status, message, "ok");
    const values = await get("/api/desk/counts").catch(() => null);
    if (values) { counts = values; replace(tabHolder, tabBar()); }
    await select(index);
    await ctx.refreshCounts();
  }

  function decisionBox(title, ...children) {
    return h("section.d-card.d-decide", h("h2", title), ...children);
  }

  function answerDecision(task) {
    const comment = h("textarea#d-review-comment", { name: "comment", rows: "3", maxlength: "4000", placeholder: "退回时必填：说明哪里不符合、如何补正" });
    const message = h("p.d-msg", { hidden: true });
    const send = async (accept) => {
      const text = comment.value.trim();
      if (!accept && !text) {
        formMessage(message, "退回时请填写退回意见。");
        comment.focus();
        return;
      }
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await post(`/api/rectification/tasks/${task.id}/${accept ? "accept" : "reject"}`, { comment: text });
        await decided(`${task.notice_number} 第 ${task.seq} 项已${accept ? "验收通过" : "退回"}。`);
      } catch (error) {
        formMessage(message, errorText(error));
        buttons.forEach((b) => { b.disabled = false; });
      }
    };
    const acceptButton = h("button.btn.primary#d-accept", { type: "button", onclick: () => send(true) }, icon("check", { size: 18 }), "验收通过");
    const rejectButton = h("button.btn.danger#d-reject", { type: "button", onclick: () => send(false) }, icon("cross", { size: 18 }), "退回");
    const buttons = [acceptButton, rejectButton];
    actions = { accept: () => send(true), reject: () => { comment.focus(); } };
    return h("div.d-decision-grid",
      taskEvidence(task, { noticeHref: deskHash(["notices", task.notice_id]) }),
      decisionBox("验收",
        h("div.d-field", h("label", { for: "d-review-comment" }, "验收意见 / 退回意见"), comment),
        message,
        h("div.d-actions", acceptButton, rejectButton),
        h("p.d-hint", "验收通过后该事项办结；退回后机构需重新整改并提交报告。")));
  }

  function objectionDecision(task) {
    const reason = h("textarea#d-objection-reason", { name: "comment", rows: "3", maxlength: "4000", placeholder: "必填：处理理由（机构可见）" });
    const message = h("p.d-msg", { hidden: true });
    const send = async (upheld) => {
      const text = reason.value.trim();
      if (!text) {
        formMessage(message, "请填写处理理由。");
        reason.focus();
        return;
      }
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await post(`/api/rectification/tasks/${task.id}/objection/decision`, { decision: upheld ? "upheld" : "dismissed", comment: text });
        await decided(`${task.notice_number} 第 ${task.seq} 项的申诉已处理：${upheld ? "撤销该事项" : "维持原问题"}。`);
      } catch (error) {
        formMessage(message, errorText(error));
        buttons.forEach((b) => { b.disabled = false; });
      }
    };
    const keep = h("button.btn.primary#d-objection-keep", { type: "button", onclick: () => send(false) }, "维持");
    const withdraw = h("button.btn.secondary#d-objection-withdraw", { type: "button", onclick: () => send(true) }, "撤销");
    const buttons = [keep, withdraw];
    actions = { reject: () => reason.focus() };
    return h("div.d-decision-grid",
      taskEvidence(task, { noticeHref: deskHash(["notices", task.notice_id]), objectionFirst: true }),
      decisionBox("处理申诉",
        h("div.d-field", h("label", { for: "d-objection-reason" }, "处理理由"), reason),
        message,
        h("div.d-actions", keep, withdraw),
        h("p.d-hint", "维持：问题成立，机构继续按期整改。撤销：申诉成立，撤销该整改事项。")));
  }

  function draftDecision(notice) {
    const message = h("p.d-msg", { hidden: true });
    const confirmButton = h("button.btn.primary#d-confirm-notice", {
      type: "button",
      onclick: async () => {
        confirmButton.disabled = true;
        try {
          const issued = await post(`/api/rectification/notices/${notice.id}/confirm`);
          await decided(`已签发整改通知书 ${issued.number}。`);
        } catch (error) {
          formMessage(message, errorText(error));
          confirmButton.disabled = false;
        }
      },
    }, icon("send", { size: 18 }), "确认签发");
    actions = {};
    return h("div.d-decision-grid",
      h("div.d-evidence",
        h("section.d-card",
          h("div.d-card-head", h("h2", institutionText(notice.institution)), noticePill(notice)),
          h("dl.d-kv",
            h("div", h("dt", "检查"), h("dd", `${notice.inspection_kind} · ${dayText(notice.inspection_date)} · ${notice.checklist_title}`)),
            h("div", h("dt", "检查人员"), h("dd", notice.inspectors.join("、") || "—")),
            h("div", h("dt", "得分"), h("dd", notice.score_total === null ? "—" : `${notice.score_total} 分 · ${notice.grade || ""}`))),
          h("div.d-actions", documentButton(notice, "预览通知书"), h("a.btn.secondary.small", { href: deskHash(["notices", notice.id]) }, "通知书详情"))),
        h("section.d-card",
          h("h2", `问题（${notice.tasks.length}）`),
          h("ol.d-task-lines", notice.tasks.map((t) => h("li",
            h("strong", t.item_text),
            h("span.d-hint", `依据：${t.basis || "—"} · 整改期限 ${t.deadline_days ? `${t.deadline_days} 天` : "立即整改"}`)))))),
      decisionBox("确认签发",
        h("p", "签发后通知书编号生成，整改期限和申诉期从今天起算。"),
        message,
        h("div.d-actions", confirmButton)));
  }

  const onKey = (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (document.querySelector(".d-lightbox, dialog[open]")) return;
    const target = event.target;
    const typing = target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (typing) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const key = event.key;
    if (key === "j" || key === "ArrowDown") { event.preventDefault(); select(index + 1); }
    else if (key === "k" || key === "ArrowUp") { event.preventDefault(); select(index - 1); }
    else if (key === "a" && actions.accept) { event.preventDefault(); actions.accept(); }
    else if (key === "r" && actions.reject) { event.preventDefault(); actions.reject(); }
  };
  document.addEventListener("keydown", onKey);
  await select(index, { focus: false });
  return () => document.removeEventListener("keydown", onKey);
}
