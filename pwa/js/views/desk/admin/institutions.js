// 机构: the institutions with search (name, code), type, region and agreement status filters in
// the URL, paged; 新建机构; 导入 from an XLSX or CSV file (a file with any bad row imports
// nothing: every bad row is shown with its line number and reasons); editing the chosen one,
// its 协议状态 with a reason.
import { h, replace } from "../../../ui/dom.js";
import { ApiError, download, errorText, get, patch, post, upload } from "../common/http.js";
import { failure, field, formMessage, loading } from "../common/page.js";
import { dataTable, pager } from "../common/table.js";
import { formValues } from "../common/url.js";
import { AGREEMENT_LABELS, TYPE_LABELS, choiceSelect, dateTime, loadRegions, pill, regionSelect } from "./common.js";

const LIMIT = 50;
const STATUS_TONE = { normal: "ok", suspended: "warn", terminated: "bad" };

function importPanel(onImported) {
  const result = h("div#import-result");
  const input = h("input#import-file", { type: "file", name: "file", accept: ".xlsx,.csv", required: true });
  const form = h("form.d-card#import-form",
    h("h2", "导入机构"),
    h("p.d-sub", "按模板填写（机构编码、机构名称、机构类型、等级、所属地区、地址），保存为 .xlsx 或 CSV UTF-8。文件中任一行有误时不导入任何机构，并列出每一行的问题。"),
    h("div.d-actions",
      field("选择文件", input),
      h("button.btn.primary#import-submit", { type: "submit" }, "导入"),
      h("button.btn.secondary#import-template", { type: "button", onclick: async () => {
        try { await download("/api/admin/institutions/import-template.xlsx", "机构导入模板.xlsx"); } catch (error) { replace(result, h("p.d-msg.error", errorText(error))); }
      } }, "下载模板")),
    result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.files.length) return;
    const data = new FormData();
    data.append("file", input.files[0]);
    replace(result, loading("正在导入…"));
    try {
      const body = await upload("/api/admin/institutions/import", data);
      replace(result, h("p.d-msg.ok#import-ok", { role: "status" }, `已导入 ${body.imported} 家机构。`));
      input.value = "";
      onImported();
    } catch (error) {
      const rows = error instanceof ApiError && error.body && Array.isArray(error.body.rows) ? error.body.rows : null;
      if (!rows || !rows.length) { replace(result, h("p.d-msg.error", { role: "alert" }, errorText(error))); return; }
      replace(result,
        h("p.d-msg.error#import-refused", { role: "alert" }, error.message),
        dataTable({
          id: "import-errors",
          rows,
          rowKey: (r) => r.row,
          columns: [
            { key: "row", label: "行号", num: true, width: "5em", render: (r) => `第 ${r.row} 行` },
            { key: "problems", label: "问题", render: (r) => h("ul.d-problems", r.problems.map((p) => h("li", p))) },
          ],
        }));
    }
  });
  return form;
}

function createPanel(regions, done) {
  const msg = h("p.d-msg", { hidden: true });
  const form = h("form.d-card#inst-create", { autocomplete: "off" },
    h("h2", "新建机构"),
    h("div.d-grid",
      field("机构编码", h("input", { name: "code", required: true, maxlength: "32" })),
      field("机构名称", h("input", { name: "name", required: true, maxlength: "128" })),
      field("机构类型", choiceSelect(TYPE_LABELS, { name: "type", all: null })),
      field("等级", h("input", { name: "level", maxlength: "32", placeholder: "如 三级甲等、未定级" })),
      field("所属地区", regionSelect(regions, { name: "region_code", all: "请选择地区" })),
      field("地址", h("input", { name: "address", maxlength: "256" })),
      field("联系人", h("input", { name: "contact_name", maxlength: "64" })),
      field("联系电话", h("input", { name: "contact_phone", maxlength: "32" }))),
    msg,
    h("div.d-actions",
      h("button.btn.primary", { type: "submit" }, "创建机构"),
      h("button.btn.secondary", { type: "button", onclick: () => done(null) }, "取消")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      done(await post("/api/admin/institutions", formValues(form)));
    } catch (error) {
      const problems = error instanceof ApiError && error.body && error.body.extra && error.body.extra.problems;
      formMessage(msg, problems ? problems.join("；") : errorText(error));
    }
  });
  return form;
}

function editPanel(inst, done) {
  const msg = h("p.d-msg", { hidden: true });
  const reason = field("变更原因", h("textarea", { name: "reason", maxlength: "500", placeholder: "协议状态变更时必填，记入审计日志" }));
  const status = choiceSelect(AGREEMENT_LABELS, { name: "agreement_status", value: inst.agreement_status, all: null });
  const sync = () => { reason.hidden = status.value === inst.agreement_status; };
  status.addEventListener("change", sync);
  sync();
  const form = h("form.d-card#inst-edit",
    h("div.d-card-head", h("h2", `${inst.name}`), pill(`协议状态：${inst.agreement_status_label}`, STATUS_TONE[inst.agreement_status])),
    h("p.d-sub", `${inst.code} · ${inst.type_label} · ${inst.region_name} · 更新于 ${dateTime(inst.updated_at)}`),
    h("div.d-grid",
      field("机构名称", h("input", { name: "name", value: inst.name, required: true, maxlength: "128" })),
      field("等级", h("input", { name: "level", value: inst.level, maxlength: "32" })),
      field("地址", h("input", { name: "address", value: inst.address, maxlength: "256" })),
      field("联系人", h("input", { name: "contact_name", value: inst.contact_name, maxlength: "64" })),
      field("联系电话", h("input", { name: "contact_phone", value: inst.contact_phone, maxlength: "32" })),
      field("协议状态", status),
      reason),
    msg,
    h("div.d-actions",
      h("button.btn.primary", { type: "submit" }, "保存"),
      h("button.btn.secondary", { type: "button", onclick: () => done(null) }, "关闭")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = {};
    for (const key of ["name", "level", "address", "contact_name", "contact_phone"]) {
      if (values[key].trim() !== (inst[key] || "")) body[key] = values[key];
    }
    if (values.agreement_status !== inst.agreement_status) {
      if (!values.reason.trim()) { formMessage(msg, "变更协议状态须填写变更原因"); return; }
      body.agreement_status = values.agreement_status;
      body.reason = values.reason.trim();
    }
    if (!Object.keys(body).length) { formMessage(msg, "没有需要修改的内容"); return; }
    try {
      done(await patch(`/api/admin/institutions/${inst.id}`, body));
    } catch (error) {
      formMessage(msg, errorText(error));
    }
  });
  return form;
}

/** Render the 机构 tab. */
export async function render(el, ctx) {
  replace(el, loading());
  const q = ctx.query;
  const offset = Math.max(0, Number(q.offset) || 0);
  let regions;
  let page;
  const fetchPage = () => get("/api/institutions", {
    q: q.q, type: q.type, region: q.region, agreement_status: q.status, limit: LIMIT, offset,
  });
  try {
    [regions, page] = await Promise.all([loadRegions(), fetchPage()]);
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
    return;
  }
  const filters = h("form.d-filters#inst-filters",
    field("搜索", h("input", { name: "q", type: "search", value: q.q || "", placeholder: "名称或编码" })),
    field("机构类型", choiceSelect(TYPE_LABELS, { name: "type", value: q.type || "" })),
    field("地区", regionSelect(regions, { value: q.region || "" })),
    field("协议状态", choiceSelect(AGREEMENT_LABELS, { name: "status", value: q.status || "" })));
  const apply = () => ctx.setQuery({ ...formValues(filters), offset: "", panel: q.panel || "" });
  filters.addEventListener("change", apply);
  filters.addEventListener("submit", (event) => { event.preventDefault(); apply(); });

  const panel = h("div");
  const notice = h("p.d-msg", { hidden: true });
  const tableArea = h("div");
  const refresh = async () => {
    try { page = await fetchPage(); drawTable(); } catch (error) { replace(tableArea, failure(error)); }
  };
  const drawTable = () => replace(tableArea,
    dataTable({
      id: "inst-table",
      rows: page.items,
      empty: "没有符合条件的机构",
      onRow: (inst) => {
        replace(panel, editPanel(inst, async (saved) => {
          replace(panel);
          if (saved) { formMessage(notice, `已保存：${saved.name}`, "ok"); await refresh(); }
        }));
        panel.scrollIntoView({ block: "nearest" });
      },
      columns: [
        { key: "code", label: "机构编码", width: "10em" },
        { key: "name", label: "机构名称" },
        { key: "type_label", label: "类型", width: "8em" },
        { key: "level", label: "等级", width: "6em" },
        { key: "region_name", label: "地区", width: "6em" },
        { key: "agreement_status", label: "协议状态", width: "6em", render: (i) => pill(i.agreement_status_label, STATUS_TONE[i.agreement_status]) },
      ],
    }),
    pager({ offset, limit: LIMIT, total: page.total, go: (next) => ctx.setQuery({ ...q, offset: next || "" }, { replace: false }) }));
  drawTable();

  const show = (which) => {
    if (which === "import") replace(panel, importPanel(refresh));
    else if (which === "new") replace(panel, createPanel(regions, async (created) => {
      replace(panel);
      if (created) { formMessage(notice, `已创建机构：${created.name}（${created.code}）`, "ok"); await refresh(); }
    }));
  };
  replace(el,
    h("div.d-toolbar", filters, h("div.d-actions",
      h("button.btn.secondary#inst-new", { type: "button", onclick: () => show("new") }, "新建机构"),
      h("button.btn.primary#inst-import", { type: "button", onclick: () => show("import") }, "导入"))),
    notice, panel, tableArea);
  if (q.panel) show(q.panel);
}
