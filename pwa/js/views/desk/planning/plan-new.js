// 检查计划 · 新建检查任务: an institution (searched by name or code), the checklist version that
// applies to its type, a date window, the kind (日常 / 专项 / 飞行 / 复查 / 双随机) and at least two
// inspectors among those who cover the institution; inspectors who must 回避 it are shown and
// cannot be chosen (the server refuses them too).
import { h, replace } from "../../../ui/dom.js";
import { errorText, get, post } from "../common/http.js";
import { failure, field, formMessage, loading } from "../common/page.js";
import { deskHash, formValues } from "../common/url.js";
import { KIND_LABELS, TYPE_LABELS, addDays, inspectorLabel, isoDate, planningOptions } from "./common.js";

/** Whether an inspector's region covers the institution's (its own or the one above it). */
export function covers(inspector, regionCode, regions) {
  if (inspector.region_code === regionCode) return true;
  let current = regions.find((r) => r.code === regionCode);
  const seen = new Set();
  while (current && current.parent_code && !seen.has(current.code)) {
    seen.add(current.code);
    if (inspector.region_code === current.parent_code) return true;
    current = regions.find((r) => r.code === current.parent_code);
  }
  return false;
}

function institutionSearch(onPick) {
  const input = h("input#plan-inst-q", { type: "search", placeholder: "输入机构名称或编码", autocomplete: "off" });
  const results = h("ul.d-results#plan-inst-results", { role: "listbox", "aria-label": "搜索结果" });
  let timer = null;
  let seq = 0;
  const search = async () => {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) { replace(results); return; }
    try {
      const page = await get("/api/institutions", { q, limit: 12 });
      if (mine !== seq) return;
      replace(results, page.items.length ? page.items.map((inst) => h("li",
        h("button.d-result", { type: "button", role: "option", onclick: () => { replace(results); input.value = ""; onPick(inst); } },
          h("strong", inst.name), h("span.d-muted", ` ${inst.code} · ${inst.type_label} · ${inst.region_name}`),
          inst.agreement_status !== "normal" ? h("span.d-muted", ` · 协议${inst.agreement_status_label}`) : null)))
        : h("li.d-muted", "没有找到匹配的机构"));
    } catch (error) {
      replace(results, h("li.d-msg.error", errorText(error)));
    }
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 200); });
  return h("div.d-search", field("机构", input, "在本地区的定点医药机构中搜索"), results);
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
  let chosen = null;
  const today = isoDate();
  const chosenBox = h("div.d-chosen#plan-chosen", h("p.d-muted", "尚未选择机构"));
  const checklistBox = h("div");
  const teamBox = h("div.d-team#plan-team");
  const msg = h("p.d-msg", { hidden: true });

  const pickInstitution = async (inst) => {
    chosen = inst;
    replace(chosenBox, h("div.d-chosen-card",
      h("strong", inst.name), h("span.d-muted", ` ${inst.code} · ${TYPE_LABELS[inst.type] || inst.type} · ${inst.region_name}`),
      h("br"), h("small.d-muted", inst.address || "")));
    const versions = options.checklists.filter((c) => (c.applies_to || []).includes(inst.type));
    replace(checklistBox, field("检查表版本", h("select#plan-checklist", { name: "checklist", required: true },
      versions.length ? versions.map((c) => h("option", { value: `${c.checklist_id}|${c.version}` }, `${c.title}（${c.checklist_id} 第${c.version}版）`))
        : h("option", { value: "" }, "没有适用于该类型机构的检查表")), "默认为最新版本"));
    replace(teamBox, loading("正在加载检查人员…"));
    const related = new Map();
    try {
      for (const r of await get("/api/inspector-relations", { institution_id: inst.id })) related.set(r.inspector, r.reason);
    } catch (error) { /* shown by the server on save */ }
    const eligible = options.inspectors.filter((i) => i.is_active && covers(i, inst.region_code, options.regions));
    replace(teamBox, h("fieldset.d-checks.d-team-list",
      h("legend", "检查人员（至少两人）"),
      eligible.length ? eligible.map((i) => h("label.d-check", { class: related.has(i.username) ? "d-avoid" : null },
        h("input", { type: "checkbox", name: "inspector_ids", value: i.id, disabled: related.has(i.username) }),
        inspectorLabel(i),
        related.has(i.username) ? h("span.d-pill.bad", `回避：${related.get(i.username)}`) : null))
        : h("p.d-muted", "没有负责该机构所在地区的在岗检查人员")));
  };

  const form = h("form.d-card.d-plan-form#plan-new-form", { autocomplete: "off" },
    h("h2", "新建检查任务"),
    institutionSearch(pickInstitution),
    chosenBox,
    h("div.d-grid",
      checklistBox,
      field("检查类型", h("select#plan-kind", { name: "kind" }, Object.entries(KIND_LABELS).map(([v, l]) => h("option", { value: v, selected: v === (ctx.query.kind || "routine") }, l)))),
      field("开始日期", h("input#plan-start", { type: "date", name: "window_start", value: today, required: true })),
      field("结束日期", h("input#plan-end", { type: "date", name: "window_end", value: addDays(today, 7), required: true }))),
    teamBox,
    field("备注", h("textarea", { name: "note", maxlength: "2000", rows: "2" })),
    msg,
    h("div.d-actions", h("button.btn.primary#plan-new-submit", { type: "submit" }, "创建检查任务")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!chosen) { formMessage(msg, "请先搜索并选择机构"); return; }
    const values = formValues(form);
    const [checklistId, version] = (values.checklist || "").split("|");
    const team = values.inspector_ids || [];
    if (team.length < 2) { formMessage(msg, "执法检查人员不得少于两人，请至少选择两名检查人员"); return; }
    try {
      const created = await post("/api/assignments", {
        institution_id: chosen.id, checklist_id: checklistId, checklist_version: version ? Number(version) : null,
        window_start: values.window_start, window_end: values.window_end, inspector_ids: team,
        kind: values.kind, note: values.note.trim(),
      });
      replace(msg);
      formMessage(msg, "", "ok");
      msg.append(`已创建：${created.institution.name}，${created.kind_label}，${created.window_start} 至 ${created.window_end}。 `,
        h("a", { href: deskHash(["plan", "list"], { from: created.window_start }) }, "在任务列表中查看"));
      msg.hidden = false;
    } catch (error) {
      formMessage(msg, errorText(error));
    }
  });
  replace(el, form);
  return null;
}
