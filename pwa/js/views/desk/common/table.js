// Dense tables for the desk: sticky header, numbers right-aligned in tabular figures, an optional
// click (and Enter) per row, and an empty state that says what is missing.
import { h } from "../../../ui/dom.js";

/**
 * dataTable({columns, rows, onRow, empty, rowKey, caption, selected})
 * columns: [{key, label, render?(row) → node|string, num?: true, width?: "8em", cls?}]
 * onRow(row, index): makes rows focusable and clickable; `selected` marks one row by its key.
 */
export function dataTable({ columns, rows, onRow = null, empty = "暂无记录", rowKey = (r) => r.id, caption = null, selected = null, id = null }) {
  const head = h("thead", h("tr", columns.map((c) =>
    h("th", { scope: "col", class: c.num ? "num" : null, style: c.width ? `width:${c.width}` : null }, c.label))));
  const body = h("tbody");
  if (!rows.length) {
    body.append(h("tr.d-empty-row", h("td", { colspan: String(columns.length) }, empty)));
  }
  rows.forEach((row, index) => {
    const key = rowKey(row);
    const tr = h("tr", {
      dataset: { key: key === undefined || key === null ? "" : String(key) },
      class: [onRow ? "d-clickable" : null, selected !== null && key === selected ? "d-selected" : null].filter(Boolean).join(" ") || null,
      tabindex: onRow ? "0" : null,
      onclick: onRow ? (event) => { if (!event.target.closest("a, button, input, select, textarea")) onRow(row, index); } : null,
      onkeydown: onRow ? (event) => { if (event.key === "Enter" && event.target === event.currentTarget) onRow(row, index); } : null,
    }, columns.map((c) => {
      const value = c.render ? c.render(row) : row[c.key];
      return h("td", { class: [c.num ? "num" : null, c.cls || null].filter(Boolean).join(" ") || null, "data-label": c.label },
        value === null || value === undefined || value === "" ? "—" : value);
    }));
    body.append(tr);
  });
  return h("div.d-table-wrap", h("table.d-table", { id }, caption ? h("caption", caption) : null, head, body));
}

/** "第 1–50 条，共 230 条" with 上一页 / 下一页 buttons; `go(offset)` is called on a click. */
export function pager({ offset = 0, limit, total, go }) {
  const end = Math.min(offset + limit, total);
  return h("div.d-pager",
    h("span.num", total ? `第 ${offset + 1}–${end} 条，共 ${total} 条` : "共 0 条"),
    h("button.btn.secondary.small", { type: "button", disabled: offset <= 0, onclick: () => go(Math.max(0, offset - limit)) }, "上一页"),
    h("button.btn.secondary.small", { type: "button", disabled: end >= total, onclick: () => go(offset + limit) }, "下一页"));
}
