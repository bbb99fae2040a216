// 检查计划 · 批量日常检查: every institution of the chosen types in a region over a period, each
// with a pair of inspectors, workloads balanced and 回避 honoured. 预览 first (nothing stored), then
// 确认创建 makes the routine assignments the preview showed (the same 随机种子 gives the same pairs).
import { h, replace } from "../../../ui/dom.js";
import { errorText, post } from "../common/http.js";
import { failure, field, formMessage, loading } from "../common/page.js";
import { dataTable } from "../common/table.js";
import { deskHash, formValues } from "../common/url.js";
import { AGREEMENT_LABELS, TYPE_LABELS, addDays, checkGroup, isoDate, picksTable, planningOptions, regionSelect } from "./common.js";

/** Picks per inspector, busiest first, as a compact line of pills. */
export function workloads(picks) {
  const loads = new Map();
  for (const p of picks) p.inspectors.forEach((u, i) => {
    const entry = loads.get(u) || { name: p.inspector_names[i], n: 0 };
    entry.n += 1;
    loads.set(u, entry);
  });
  const items = [...loads.entries()].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]));
  return h("p.d-loads", h("span.d-muted", "每人任务数："),
    items.map(([u, e]) => h("span.d-pill.neutral", { title: u }, `${e.name} ${e.n}`)));
}

export async function render(el, ctx) {
  replace(el, loading());
  let options;
  try {
    options = await planningOptions();
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
    return null;
  }
  const start = addDays(isoDate(), 1);
  const msg = h("p.d-msg", { hidden: true });
  const result = h("div.d-plan-result#bulk-result");
  let lastBody = null;
  const form = h("form.d-card#bulk-form", { autocomplete: "off" },
    h("h2", "批量日常检查"),
    h("p.d-hint", "为所选地区（含下辖区县）所选类型的全部机构各安排一个两人检查组，工作量均衡，自动回避。"),
    h("div.d-grid",
      field("地区", regionSelect(options.regions, { name: "region", value: ctx.query.region || (options.regions[0] || {}).code })),
      field("开始日期", h("input#bulk-start", { type: "date", name: "window_start", value: start, required: true })),
      field("结束日期", h("input#bulk-end", { type: "date", name: "window_end", value: addDays(start, 29), required: true })),
      field("随机种子", h("input#bulk-seed", { name: "seed", maxlength: "128", placeholder: "留空则自动生成" }), "决定人员配对；相同种子得到相同结果")),
    checkGroup(TYPE_LABELS, { name: "institution_types", checked: ["pharmacy"], legend: "机构类型" }),
    checkGroup(AGREEMENT_LABELS, { name: "agreement_status", checked: ["normal"], legend: "协议状态" }),
    field("备注", h("input", { name: "note", maxlength: "200", placeholder: "如：2026年第三季度日常检查" })),
    msg,
    h("div.d-actions", h("button.btn.primary#bulk-preview", { type: "submit" }, "预览")));

  const bodyOf = () => {
    const v = formValues(form);
    return {
      region: v.region, institution_types: v.institution_types, agreement_status: v.agreement_status,
      window_start: v.window_start, window_end: v.window_end, seed: v.seed.trim() || null, note: v.note.trim(),
    };
  };

  const confirmCreate = async (button) => {
    button.disabled = true;
    try {
      const saved = await post("/api/assignments/bulk", lastBody);
      replace(result, h("div.d-msg.ok#bulk-done", { role: "status" },
        `已创建 ${saved.created} 项日常检查任务（随机种子 ${saved.seed}）。 `,
        h("a", { href: deskHash(["plan", "list"], { kind: "routine", region: saved.region, from: saved.window_start, to: saved.window_end }) }, "在任务列表中查看")));
      ctx.refreshCounts();
    } catch (error) {
      button.disabled = false;
      formMessage(msg, errorText(error));
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formMessage(msg, "");
    lastBody = bodyOf();
    replace(result, loading("正在计算…"));
    try {
      const plan = await post("/api/assignments/bulk/preview", lastBody);
      lastBody = { ...lastBody, seed: plan.seed }; // 确认 uses the seed of this preview
      const confirmButton = h("button.btn.primary#bulk-confirm", { type: "button", disabled: !plan.picks.length, onclick: (e) => confirmCreate(e.currentTarget) },
        `确认创建 ${plan.picks.length} 项任务`);
      replace(result,
        h("div.d-card",
          h("div.d-card-head",
            h("h2", `预览：${plan.region_name}，${plan.pool_size} 家机构`),
            h("div.d-actions", confirmButton)),
          h("p.d-sub", `时间 ${plan.window_start} 至 ${plan.window_end} · 随机种子 `, h("code", plan.seed),
            plan.unassigned.length ? ` · ${plan.unassigned.length} 家未能安排` : ""),
          workloads(plan.picks),
          picksTable(plan, dataTable, { id: "bulk-table" })));
    } catch (error) {
      replace(result);
      formMessage(msg, errorText(error));
    }
  });
  replace(el, form, result);
  return null;
}
