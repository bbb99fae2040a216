// Filters live in the URL (`#/desk/<module>/...?a=1&b=2`), so that a view is a link that can be
// shared or bookmarked, and the back button restores it.

/** The hash for a desk path and query (empty values left out). */
export function deskHash(path, query = {}) {
  const segments = (Array.isArray(path) ? path : [path]).map((p) => encodeURIComponent(p));
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return `#/desk/${segments.join("/")}${text ? `?${text}` : ""}`;
}

/** Read a form's named controls into a plain object (checkboxes as booleans, multi-selects as lists). */
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") {
      if (form.querySelectorAll(`[name="${el.name}"]`).length > 1) {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else values[el.name] = el.checked;
    } else if (el.type === "radio") {
      if (el.checked) values[el.name] = el.value;
    } else if (el.multiple) {
      values[el.name] = Array.from(el.selectedOptions).map((o) => o.value);
    } else values[el.name] = el.value;
  }
  return values;
}
