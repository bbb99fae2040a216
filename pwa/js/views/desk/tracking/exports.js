// 导出: XLSX and CSV of what the filters select (inspections, every finding, rectification tasks),
// downloaded with the login token. The filters are the 看板's and stay in the URL.
import { h, replace } from "../../../ui/dom.js";
import { download, errorText, get, withQuery } from "../common/http.js";
import { failure, formMessage, loading, pageHead } from "../common/page.js";
import { describe, filterBar, filtersOf } from "./filters.js";

const EXPORTS = [
  ["inspections", "检查记录", "每次已提交的检查一行：机构编码与名称、检查日期、检查方式、检查表、得分、等级、不符合项数、整改通知书文号。"],
  ["findings", "检查发现", "每个检查项的作答一行（符合、不符合、不适用都在内）：检查类别、检查内容、结果、发现处数、抽查数与不符合数、说明、涉及医师。"],
  ["rectification-tasks", "整改事项", "期间内签发的整改通知书的每个整改事项一行：文号、机构、事项、依据、整改期限、状态、是否逾期。"],
];

function fileLabel(applied, title, ext) {
  return `${title}_${applied.region_name}_${applied.from}至${applied.to}.${ext}`;
}

/** Render the export page. */
export async function render(el, ctx) {
  ctx.title("导出");
  replace(el, loading());
  let details;
  try {
    details = await get("/api/dashboard/summary", filtersOf(ctx.query));
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
    return null;
  }
  const regions = details.regions;
  const applied = details.filters;
  const message = h("p.d-msg", { hidden: true });
  const cards = EXPORTS.map(([name, title, text]) => h("section.d-card.d-export", { dataset: { export: name } },
    h("h2", title),
    h("p.d-hint", text),
    h("div.d-actions", ["xlsx", "csv"].map((ext) => h("button.btn.small", {
      type: "button",
      class: ext === "xlsx" ? "btn small primary" : "btn small secondary",
      dataset: { file: `${name}.${ext}` },
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        formMessage(message, "");
        try {
          await download(withQuery(`/api/exports/${name}.${ext}`, filtersOf(ctx.query)), fileLabel(applied, title, ext));
          formMessage(message, `已开始下载：${fileLabel(applied, title, ext)}`, "ok");
        } catch (error) {
          formMessage(message, errorText(error));
        } finally {
          button.disabled = false;
        }
      },
    }, ext === "xlsx" ? "下载 Excel（XLSX）" : "下载 CSV")))));
  replace(el,
    pageHead("导出", describe(applied)),
    filterBar({ query: ctx.query, applied, regions, apply: (next) => ctx.setQuery(next, { replace: false }) }),
    h("p.d-hint", `当前范围：${details.inspections} 次检查，${details.tasks} 个整改事项。CSV 为带 BOM 的 UTF-8，可直接用 Excel 打开。`),
    message,
    h("div.d-export-grid", cards));
  return null;
}
