// 双随机抽取 (supervisors, admins): draw institutions from a pool (地区 with its counties, 机构类型,
// 协议状态, not inspected since a date) by count or proportion, each with a pair of inspectors
// (workload balanced, 回避 honoured). 预览 stores nothing; 确认抽取 saves the draw with the
// previewed 随机种子 and opens it, with its 公示 page and CSV. `#/desk/draws/history` lists the
// draws; `#/desk/draws/<id>` shows one.
import { h, replace } from "../../../ui/dom.js";
import { errorText, get, post } from "../common/http.js";
import { failure, fact, field, formMessage, loading, pageHead, tabs } from "../common/page.js";
import { dataTable } from "../common/table.js";
import { deskHash, formValues } from "../common/url.js";
import { AGREEMENT_LABELS, TYPE_LABELS, addDays, dateTime, checkGroup, isoDate, picksTable, planningOptions, regionSelect, windowText } from "./common.js";
import { workloads } from "./plan-bulk.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function drawForm(options, ctx, onPreview) {
  const start = addDays(isoDate(), 1);
  const amount = h("input#draw-amount", { type: "number", name: "amount", min: "0.01", step: "any", value: "3", required: true });
  const modeHint = "抽取的机构家数";
  const form = h("form.d-card#draw-form", { autocomplete: "off" },
    h("h2", "抽取条件"),
    h("div.d-grid",
      field("抽查事项", h("input#draw-title", { name: "title", maxlength: "200", required: true, placeholder: "如：2026年第三季度定点零售药店双随机抽查" })),
      field("地区", regionSelect(options.regions, { name: "region", value: ctx.query.region || (options.regions[0] || {}).code, id: "draw-region" }), "含下辖区县"),
      field("未检查起始日", h("input#draw-since", { type: "date", name: "not_inspected_since" }), "可选：只抽该日以来未检查过的机构")),
    checkGroup(TYPE_LABELS, { name: "institution_types", checked: ["pharmacy"], legend: "机构类型" }),
    checkGroup(AGREEMENT_LABELS, { name: "agreement_status", checked: ["normal"], legend: "协议状态" }),
    h("div.d-grid",
      h("fieldset.d-checks", h("legend", "抽取方式"),
        h("label.d-check", h("input", { type: "radio", name: "mode", value: "count", checked: true }), "按数量"),
        h("label.d-check", h("input", { type: "radio", name: "mode", value: "proportion" }), "按比例")),
      field("数量 / 比例", amount, modeHint),
      field("检查开始日期", h("input#draw-start", { type: "date", name: "window_start", value: start, required: true })),
      field("检查结束日期", h("input#draw-end", { type: "date", name: "window_end", value: addDays(start, 29), required: true })),
      field("随机种子", h("input#draw-seed", { name: "seed", maxlength: "128", placeholder: "留空则自动生成" }), "公示后任何人可用它复核抽取结果")),
    h("p.d-msg#draw-msg", { hidden: true }),
    h("div.d-actions", h("button.btn.primary#draw-preview", { type: "submit" }, "预览")));
  form.addEventListener("change", (event) => {
    if (event.target.name !== "mode") return;
    const proportion = event.target.value === "proportion";
    amount.value = proportion ? "0.2" : "3";
    form.querySelector("#draw-amount + .d-hint").textContent = proportion ? "抽取比例，如 0.2 表示 20%，按四舍五入取整家数" : "抽取的机构家数";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const v = formValues(form);
    const n = Number(v.amount);
    onPreview({
      title: v.title.trim(), region: v.region, institution_types: v.institution_types, agreement_status: v.agreement_status,
      not_inspected_since: v.not_inspected_since || null,
      count: v.mode === "count" ? (Number.isInteger(n) ? n : Math.round(n)) : null,
      proportion: v.mode === "proportion" ? n : null,
      seed: v.seed.trim() || null, window_start: v.window_start, window_end: v.window_end,
    }, form.querySelector("#draw-msg"));
  });
  return form;
}

async function newDraw(el, ctx) {
  const options = await planningOptions();
  const result = h("div.d-plan-result#draw-result");
  const onPreview = async (body, msg) => {
    formMessage(msg, "");
    replace(result, loading("正在抽取…"));
    try {
      const preview = await post("/api/draws/preview", body);
      const saved = { ...body, seed: preview.seed }; // 确认 saves exactly what was previewed
      const confirmButton = h("button.btn.primary#draw-confirm", {
        type: "button",
        disabled: !preview.picks.length,
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          try {
            const draw = await post("/api/draws", saved);
            ctx.navigate(deskHash(["draws", draw.id]));
          } catch (error) {
            event.currentTarget.disabled = false;
            formMessage(msg, errorText(error));
            msg.scrollIntoView({ block: "center" });
          }
        },
      }, "确认抽取");
      replace(result, h("div.d-card#draw-preview-card",
        h("div.d-card-head",
          h("h2", `预览：从 ${preview.pool_size} 家中抽取 ${preview.drawn} 家`),
          h("div.d-actions", confirmButton)),
        h("p.d-sub", `${preview.region_name} · 检查时间 ${preview.window_start} 至 ${preview.window_end} · 随机种子 `, h("code#draw-seed-used", preview.seed)),
        preview.unassigned.length ? h("p.d-msg.error", { role: "alert" }, `${preview.unassigned.length} 家机构无法组成两人检查组（回避或人员不足），确认后将不分配，需另行安排。`) : null,
        workloads(preview.picks),
        picksTable(preview, dataTable, { id: "draw-table" }),
        h("p.d-hint", "预览不保存任何数据。确认后按上述结果创建双随机抽查任务，并生成公示页面。")));
    } catch (error) {
      replace(result);
      formMessage(msg, errorText(error));
    }
  };
  replace(el, drawForm(options, ctx, onPreview), result);
}

async function history(el) {
  const rows = await get("/api/draws");
  replace(el, dataTable({
    id: "draw-history",
    rows,
    empty: "还没有双随机抽取记录",
    onRow: (r) => { location.hash = deskHash(["draws", r.id]); },
    columns: [
      { key: "created_at", label: "抽取时间", render: (r) => dateTime(r.created_at) },
      { key: "title", label: "抽查事项" },
      { key: "region_name", label: "地区" },
      { key: "window", label: "检查时间", render: (r) => windowText(r.window_start, r.window_end) },
      { key: "picks", label: "抽中", num: true, render: (r) => `${r.picks + r.unassigned} 家` },
      { key: "unassigned", label: "未分配", num: true },
      { key: "seed", label: "随机种子", render: (r) => h("code", r.seed) },
    ],
  }));
}

async function detail(el, id, ctx) {
  const draw = await get(`/api/draws/${id}`);
  ctx.title(`${draw.title} · 双随机抽取`);
  const results = new Map(draw.results.map((r) => [r.institution_id, r]));
  const rows = draw.picks.map((p) => ({ ...p, result: results.get(p.institution_id) }));
  replace(el,
    h("div.d-card#draw-detail",
      h("div.d-card-head",
        h("h2", draw.title),
        h("div.d-actions",
          h("a.btn.primary#draw-public", { href: draw.public_url, target: "_blank", rel: "noopener" }, "打开公示页面"),
          h("a.btn.secondary#draw-csv", { href: draw.csv_url, download: "" }, "下载 CSV"))),
      h("div.d-grid.d-facts",
        fact("地区", draw.region_name),
        fact("检查时间", `${draw.window_start} 至 ${draw.window_end}`),
        fact("抽取", `从 ${draw.pool_size} 家中抽取 ${draw.drawn} 家`),
        fact("随机种子", h("code", draw.seed)),
        fact("抽取人", draw.created_by),
        fact("抽取时间", dateTime(draw.created_at)))),
    workloads(draw.picks),
    dataTable({
      id: "draw-picks",
      rows,
      rowKey: (r) => r.institution_id,
      columns: [
        { key: "institution_code", label: "机构编码" },
        { key: "institution_name", label: "机构名称" },
        { key: "type", label: "类型", render: (r) => TYPE_LABELS[r.institution_type] || r.institution_type },
        { key: "region_name", label: "地区" },
        { key: "inspectors", label: "检查人员", render: (r) => r.inspector_names.join("、") },
        { key: "status", label: "状态", render: (r) => (r.result ? r.result.assignment_status : "—") },
        { key: "grade", label: "检查日期 / 等级", render: (r) => (r.result && r.result.inspected_on ? `${r.result.inspected_on} · ${r.result.grade || ""}` : "—") },
      ],
    }),
    draw.unassigned.length ? h("section.d-card",
      h("h2", "未分配的机构"),
      h("ul.d-problems", draw.unassigned.map((u) => h("li", `${u.institution_name}（${u.institution_code}）：${u.reason}`)))) : null);
}

export async function render(el, ctx) {
  const first = ctx.path[0] || "new";
  const current = UUID_RE.test(first) ? "detail" : first === "history" ? "history" : "new";
  const area = h("div.d-plan-tab#draws-area");
  replace(el,
    pageHead("双随机抽取", "随机抽取检查对象，随机选派检查人员，抽查情况及查处结果及时公开",
      h("a.btn.secondary", { href: deskHash(["plan", "relations"]) }, "回避关系")),
    tabs([
      { id: "new", label: "新建抽取", href: deskHash(["draws", "new"]) },
      { id: "history", label: "抽取记录", href: deskHash(["draws", "history"]) },
      ...(current === "detail" ? [{ id: "detail", label: "抽取详情", href: deskHash(["draws", first]) }] : []),
    ], current),
    area);
  replace(area, loading());
  try {
    if (current === "detail") await detail(area, first, ctx);
    else if (current === "history") await history(area);
    else await newDraw(area, ctx);
  } catch (error) {
    replace(area, failure(error, () => render(el, ctx)));
  }
  return null;
}
