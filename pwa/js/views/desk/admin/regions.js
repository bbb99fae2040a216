// 地区与签发机关: the region tree with each issuing office's short name (as it appears in notice
// numbers), add a region, rename one or change its short name.
import { h, replace } from "../../../ui/dom.js";
import { errorText, get, patch, post } from "../common/http.js";
import { failure, field, formMessage, loading } from "../common/page.js";
import { dataTable } from "../common/table.js";
import { formValues } from "../common/url.js";
import { flattenRegions, regionSelect } from "./common.js";

function numberExample(short) {
  return `${short}医保整改〔${new Date().getFullYear()}〕1号`;
}

function createForm(regions, done) {
  const msg = h("p.d-msg", { hidden: true });
  const form = h("form.d-card#region-create", { autocomplete: "off" },
    h("h2", "新建地区"),
    h("div.d-grid",
      field("地区代码", h("input", { name: "code", required: true, inputmode: "numeric", pattern: "[0-9]{6,12}" }), "行政区划代码，6–12 位数字"),
      field("地区名称", h("input", { name: "name", required: true, maxlength: "64" })),
      field("上级地区", regionSelect(regions, { name: "parent_code", all: "无（市级）" })),
      field("签发机关简称", h("input", { name: "office_short_name", required: true, maxlength: "16" }), "用于整改通知书编号，如“威”→ 威医保整改〔2026〕17号")),
    msg,
    h("div.d-actions",
      h("button.btn.primary", { type: "submit" }, "创建地区"),
      h("button.btn.secondary", { type: "button", onclick: () => done(null) }, "取消")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    try {
      done(await post("/api/admin/regions", { ...values, parent_code: values.parent_code || null }), values);
    } catch (error) { formMessage(msg, errorText(error)); }
  });
  return form;
}

function editForm(region, done) {
  const msg = h("p.d-msg", { hidden: true });
  const example = h("span.d-hint", `编号示例：${numberExample(region.office_short_name)}`);
  const short = h("input", { name: "office_short_name", value: region.office_short_name, required: true, maxlength: "16",
    oninput: (e) => { example.textContent = `编号示例：${numberExample(e.target.value.trim() || "…")}`; } });
  const form = h("form.d-card#region-edit",
    h("h2", `${region.name}（${region.code}）`),
    h("div.d-grid",
      field("地区名称", h("input", { name: "name", value: region.name, required: true, maxlength: "64" })),
      field("签发机关简称", short)),
    example,
    h("p.d-hint", "修改简称只影响今后签发的整改通知书编号，已签发的编号不变。"),
    msg,
    h("div.d-actions",
      h("button.btn.primary", { type: "submit" }, "保存"),
      h("button.btn.secondary", { type: "button", onclick: () => done(null) }, "关闭")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = {};
    if (values.name.trim() !== region.name) body.name = values.name;
    if (values.office_short_name.trim() !== region.office_short_name) body.office_short_name = values.office_short_name;
    if (!Object.keys(body).length) { formMessage(msg, "没有需要修改的内容"); return; }
    try { done(await patch(`/api/admin/regions/${encodeURIComponent(region.code)}`, body), body); } catch (error) { formMessage(msg, errorText(error)); }
  });
  return form;
}

/** Render the 地区与签发机关 tab. */
export async function render(el, ctx) {
  replace(el, loading());
  let regions;
  try {
    regions = flattenRegions(await get("/api/admin/regions"));
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
    return;
  }
  const panel = h("div");
  const notice = h("p.d-msg", { hidden: true });
  const tableArea = h("div");
  const drawTable = () => replace(tableArea, dataTable({
    id: "region-table",
    rows: regions,
    rowKey: (r) => r.code,
    onRow: (region) => {
      replace(panel, editForm(region, (tree) => {
        replace(panel);
        if (tree) { regions = flattenRegions(tree); drawTable(); formMessage(notice, `已保存：${region.code}`, "ok"); }
      }));
    },
    columns: [
      { key: "code", label: "地区代码", width: "8em" },
      { key: "name", label: "地区名称", render: (r) => h("span", { style: `padding-left:${r.depth * 1.5}em` }, r.depth ? "└ " : "", r.name) },
      { key: "office_short_name", label: "签发机关简称", width: "8em" },
      { key: "example", label: "通知书编号示例", render: (r) => numberExample(r.office_short_name) },
      { key: "institution_count", label: "机构数", num: true, width: "5em" },
      { key: "user_count", label: "用户数", num: true, width: "5em" },
    ],
  }));
  drawTable();
  replace(el,
    h("div.d-toolbar", h("p.d-sub", "点击一行修改名称或签发机关简称。"),
      h("button.btn.primary#region-new", { type: "button", onclick: () => replace(panel, createForm(regions, (tree, values) => {
        replace(panel);
        if (tree) { regions = flattenRegions(tree); drawTable(); formMessage(notice, `已创建地区：${values.name}（${values.code}）`, "ok"); }
      })) }, "新建地区")),
    notice, panel, tableArea);
}
