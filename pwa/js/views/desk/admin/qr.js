// 二维码: print the posters of a whole county (or city) as one PDF, one A4 page per institution;
// find an institution to download its poster or to 更换检查码 (the old code stops working at once).
import { h, replace } from "../../../ui/dom.js";
import { download, errorText, get, post } from "../common/http.js";
import { confirmDialog, failure, field, formMessage, loading } from "../common/page.js";
import { dataTable, pager } from "../common/table.js";
import { formValues } from "../common/url.js";
import { dateTime, loadRegions, regionSelect } from "./common.js";

const LIMIT = 30;

/** Render the 二维码 tab. */
export async function render(el, ctx) {
  replace(el, loading());
  const q = ctx.query;
  const offset = Math.max(0, Number(q.offset) || 0);
  let regions;
  let page;
  try {
    [regions, page] = await Promise.all([
      loadRegions(),
      get("/api/institutions", { q: q.q, region: q.region, limit: LIMIT, offset }),
    ]);
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
    return;
  }
  const msg = h("p.d-msg", { hidden: true });
  const region = regionSelect(regions, { name: "poster_region", value: q.region || (regions[1] || regions[0] || {}).code, all: null, id: "poster-region" });
  const printButton = h("button.btn.primary#poster-pdf", { type: "button", onclick: async () => {
    const chosen = regions.find((r) => r.code === region.value);
    printButton.disabled = true;
    formMessage(msg, "正在生成海报 PDF，每家机构一页，请稍候…", "ok");
    try {
      await download(`/api/admin/regions/${encodeURIComponent(region.value)}/posters.pdf`, `${chosen ? chosen.name : region.value}检查码海报.pdf`);
      formMessage(msg, `已生成 ${chosen ? chosen.name : ""}的检查码海报 PDF。`, "ok");
    } catch (error) {
      formMessage(msg, errorText(error));
    } finally { printButton.disabled = false; }
  } }, "打印全部海报（PDF）");
  const printCard = h("section.d-card",
    h("h2", "按地区打印海报"),
    h("p.d-sub", "生成一个 PDF：所选地区（含下属区县）每家机构一页 A4 海报，按机构编码排序。"),
    h("div.d-actions", field("地区", region), printButton),
    msg);

  const filters = h("form.d-filters#qr-filters",
    field("搜索机构", h("input", { name: "q", type: "search", value: q.q || "", placeholder: "名称或编码" })),
    field("地区", regionSelect(regions, { value: q.region || "" })),
    h("button.btn.secondary", { type: "submit" }, "查找"));
  filters.addEventListener("submit", (event) => { event.preventDefault(); ctx.setQuery({ ...formValues(filters), offset: "" }); });
  filters.addEventListener("change", (event) => { if (event.target.tagName === "SELECT") ctx.setQuery({ ...formValues(filters), offset: "" }); });
  const rowMsg = h("p.d-msg", { hidden: true });
  const tableArea = h("div");
  const draw = () => replace(tableArea, dataTable({
    id: "qr-table",
    rows: page.items,
    empty: "没有符合条件的机构",
    columns: [
      { key: "code", label: "机构编码", width: "10em" },
      { key: "name", label: "机构名称" },
      { key: "region_name", label: "地区", width: "6em" },
      { key: "updated_at", label: "更新时间", width: "10em", cls: "d-nowrap", render: (i) => dateTime(i.updated_at) },
      { key: "actions", label: "操作", width: "14em", render: (inst) => h("span.d-row-actions",
        h("button.btn.secondary.small", { type: "button", onclick: async () => {
          try { await download(`/api/institutions/${inst.id}/poster.png`, `检查码海报-${inst.code}.png`); } catch (error) { formMessage(rowMsg, errorText(error)); }
        } }, "下载海报"),
        h("button.btn.danger-outline.small", { type: "button", dataset: { rotate: inst.code }, onclick: async () => {
          const ok = await confirmDialog({
            title: `更换 ${inst.name} 的检查码？`,
            body: "旧检查码立即失效，已张贴的海报需重新打印张贴。检查人员的平板在下次同步后使用新码。",
            confirmText: "更换检查码", danger: true, id: "rotate-dialog",
          });
          if (!ok) return;
          try {
            await post(`/api/institutions/${inst.id}/qr-token/rotate`);
            formMessage(rowMsg, `已更换 ${inst.name} 的检查码，请重新打印海报。`, "ok");
          } catch (error) { formMessage(rowMsg, errorText(error)); }
        } }, "更换检查码")) },
    ],
  }), pager({ offset, limit: LIMIT, total: page.total, go: (next) => ctx.setQuery({ ...q, offset: next || "" }, { replace: false }) }));
  draw();
  replace(el, printCard, h("h2.d-h2", "单个机构"), filters, rowMsg, tableArea);
}
