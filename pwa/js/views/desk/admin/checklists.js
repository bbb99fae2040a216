// 检查表版本: the loaded versions (id, version, title, applies to, content hash, loaded at), one
// version's content, and uploading a new YAML version — problems shown with their path in the
// file; a changed file under a version already loaded is refused, the same file again is a no-op.
import { h, replace } from "../../../ui/dom.js";
import { ApiError, errorText, get, upload } from "../common/http.js";
import { failure, field, loading } from "../common/page.js";
import { dataTable } from "../common/table.js";
import { TYPE_LABELS, dateTime } from "./common.js";

const MODE_LABELS = { pass_fail: "符合/不符合", deduct: "按处扣分", sample: "抽查" };

function uploadForm(onLoaded) {
  const result = h("div#checklist-result");
  const input = h("input#checklist-file", { type: "file", name: "file", accept: ".yaml,.yml", required: true });
  const form = h("form.d-card#checklist-upload",
    h("h2", "上传检查表新版本"),
    h("p.d-sub", "YAML 文件，校验规则与命令 yibao checklists load 相同。已载入的版本不能更改：内容有变化时请提高 version。"),
    h("div.d-actions", field("选择文件", input), h("button.btn.primary#checklist-submit", { type: "submit" }, "上传")),
    result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.files.length) return;
    const data = new FormData();
    data.append("file", input.files[0]);
    replace(result, loading("正在校验…"));
    try {
      const body = await upload("/api/admin/checklists", data);
      const v = body.version;
      replace(result, h("p.d-msg.ok#checklist-ok", { role: "status" }, body.outcome === "loaded"
        ? `已载入：${v.title}（${v.checklist_id} 第 ${v.version} 版，${v.item_count} 个检查项）`
        : `该版本已载入且内容相同，未作更改：${v.checklist_id} 第 ${v.version} 版`));
      input.value = "";
      onLoaded(v.id);
    } catch (error) {
      const problems = error instanceof ApiError && error.body && error.body.extra && error.body.extra.problems;
      replace(result, h("p.d-msg.error#checklist-refused", { role: "alert" }, errorText(error)),
        problems ? dataTable({
          id: "checklist-problems",
          rows: problems.map((p, i) => ({ ...p, i })),
          rowKey: (p) => p.i,
          columns: [
            { key: "line", label: "行", num: true, width: "4em" },
            { key: "path", label: "位置", render: (p) => h("code", p.path || "（整个文件）") },
            { key: "message", label: "问题" },
          ],
        }) : null);
    }
  });
  return form;
}

async function detail(id) {
  const v = await get(`/api/admin/checklists/${id}`);
  const c = v.content;
  return h("section.d-card#checklist-detail",
    h("h2", `${v.title}`),
    h("p.d-sub", `${v.checklist_id} 第 ${v.version} 版 · 适用于 ${v.applies_to.map((t) => TYPE_LABELS[t] || t).join("、")} · ${v.item_count} 个检查项 · 载入于 ${dateTime(v.loaded_at)}`),
    h("p.d-hint", h("code", v.content_hash)),
    c.description ? h("p", c.description) : null,
    h("p", "等级：", c.grade_bands.map((b) => `${b.grade} ≥ ${b.min}`).join("，")),
    c.sections.map((s) => h("details.d-section",
      h("summary", `${s.title}（权重 ${s.weight}，${s.items.length} 项）`),
      dataTable({
        rows: s.items,
        columns: [
          { key: "id", label: "编号", width: "12em", render: (i) => h("code", i.id) },
          { key: "text", label: "检查内容", render: (i) => h("span", i.critical ? h("strong", "【否决项】") : null, i.text) },
          { key: "mode", label: "方式", width: "7em", render: (i) => MODE_LABELS[i.mode] || i.mode },
          { key: "points", label: "分值", num: true, width: "4em" },
          { key: "deadline_days", label: "整改期限（天）", num: true, width: "7em" },
        ],
      }))));
}

/** Render the 检查表版本 tab. */
export async function render(el, ctx) {
  replace(el, loading());
  let versions;
  try { versions = await get("/api/admin/checklists"); } catch (error) { replace(el, failure(error, () => render(el, ctx))); return; }
  const panel = h("div");
  const show = async (id) => {
    replace(panel, loading());
    try { replace(panel, await detail(id)); } catch (error) { replace(panel, failure(error)); }
  };
  const tableArea = h("div");
  const drawTable = (selected) => replace(tableArea, dataTable({
    id: "checklist-table",
    rows: versions,
    selected,
    onRow: (v) => ctx.setQuery({ version: v.id }),
    columns: [
      { key: "checklist_id", label: "检查表", render: (v) => h("code", v.checklist_id) },
      { key: "version", label: "版本", num: true, width: "4em" },
      { key: "title", label: "标题" },
      { key: "applies_to", label: "适用机构", render: (v) => v.applies_to.map((t) => TYPE_LABELS[t] || t).join("、") },
      { key: "item_count", label: "检查项", num: true, width: "5em" },
      { key: "content_hash", label: "内容哈希", render: (v) => h("code", { title: v.content_hash }, v.content_hash.replace(/^sha256:/, "").slice(0, 12)) },
      { key: "loaded_at", label: "载入时间", width: "10em", cls: "d-nowrap", render: (v) => dateTime(v.loaded_at) },
    ],
  }));
  drawTable(ctx.query.version || null);
  replace(el, uploadForm(async (id) => {
    versions = await get("/api/admin/checklists");
    drawTable(id);
  }), tableArea, panel);
  if (ctx.query.version) show(ctx.query.version);
}
