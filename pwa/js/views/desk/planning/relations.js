// 检查计划 · 回避: the recorded inspector–institution relations of the region (kin, former
// employment, any reason); a related inspector is never drawn or put on a team for that
// institution. Filter by inspector (in the URL); add one; remove one (confirmed).
import { h, replace } from "../../../ui/dom.js";
import { del, errorText, get, post } from "../common/http.js";
import { confirmDialog, failure, field, formMessage, loading } from "../common/page.js";
import { dataTable } from "../common/table.js";
import { formValues } from "../common/url.js";
import { dateTime, inspectorLabel, planningOptions } from "./common.js";

function addForm(options, done) {
  const msg = h("p.d-msg", { hidden: true });
  const inst = h("input#rel-inst", { name: "institution_code", placeholder: "机构编码，如 P37100200001", required: true, autocomplete: "off" });
  const form = h("form.d-card#rel-form", { autocomplete: "off" },
    h("h2", "登记回避"),
    h("div.d-grid",
      field("检查人员", h("select#rel-inspector", { name: "inspector", required: true },
        h("option", { value: "" }, "请选择"),
        options.inspectors.map((i) => h("option", { value: i.username }, `${inspectorLabel(i)}${i.is_active ? "" : "（停用）"}`)))),
      field("机构编码", inst),
      field("回避原因", h("input#rel-reason", { name: "reason", required: true, maxlength: "500", placeholder: "如：亲属在该机构任职" }))),
    msg,
    h("div.d-actions", h("button.btn.primary#rel-submit", { type: "submit" }, "登记回避")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    try {
      const found = await get("/api/institutions", { q: v.institution_code.trim(), limit: 2 });
      const match = found.items.find((i) => i.code === v.institution_code.trim().toUpperCase()) || (found.items.length === 1 ? found.items[0] : null);
      if (!match) { formMessage(msg, "未找到该机构编码，或不在您的管辖范围内"); return; }
      await post("/api/inspector-relations", { inspector: v.inspector, institution_id: match.id, reason: v.reason.trim() });
      form.reset();
      done(`已登记：${v.inspector} 回避 ${match.name}`);
    } catch (error) {
      formMessage(msg, errorText(error));
    }
  });
  return form;
}

export async function render(el, ctx, note = "") {
  replace(el, loading());
  try {
    const options = await planningOptions();
    const rows = await get("/api/inspector-relations", { inspector: ctx.query.inspector });
    const status = h("p.d-msg", { hidden: true });
    if (note) formMessage(status, note, "ok");
    const filter = h("form.d-filters#rel-filters", { role: "search" },
      field("检查人员", h("select", { name: "inspector" },
        h("option", { value: "" }, "全部"),
        options.inspectors.map((i) => h("option", { value: i.username, selected: i.username === ctx.query.inspector }, inspectorLabel(i))))));
    filter.addEventListener("change", () => ctx.setQuery(formValues(filter)));
    const table = dataTable({
      id: "rel-table",
      rows,
      empty: "没有登记的回避关系",
      columns: [
        { key: "inspector", label: "检查人员", render: (r) => `${r.inspector_name || r.inspector}（${r.inspector}）` },
        { key: "institution", label: "机构", render: (r) => h("span", r.institution_name, h("br"), h("small.d-muted", r.institution_code)) },
        { key: "reason", label: "回避原因" },
        { key: "created_at", label: "登记", render: (r) => `${dateTime(r.created_at).slice(0, 10)} ${r.created_by || ""}` },
        {
          key: "actions", label: "操作",
          render: (r) => h("button.btn.secondary.small", {
            type: "button",
            onclick: async () => {
              const ok = await confirmDialog({ title: "删除回避关系", body: `删除后，${r.inspector_name || r.inspector} 可能被抽取或安排检查 ${r.institution_name}。确定删除？`, confirmText: "删除", danger: true, id: "rel-delete" });
              if (!ok) return;
              try {
                await del(`/api/inspector-relations/${r.id}`);
                render(el, ctx, `已删除：${r.inspector} 对 ${r.institution_name} 的回避`);
              } catch (error) {
                formMessage(status, errorText(error));
              }
            },
          }, "删除"),
        },
      ],
    });
    replace(el, h("div.d-split.d-rel-layout",
      h("div.d-rel-list", filter, status, table),
      addForm(options, (text) => render(el, ctx, text))));
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
  }
  return null;
}
