// 用户: the accounts with their role, scope, state (停用 / 已锁定) and last login; create one;
// for the chosen user: change role and scope, disable/enable, unlock, reset the password, revoke
// every device, and the device sessions; an inspector's or a supervisor's 执法证号 (printed on the
// notices they sign). Filters (role, region, state) stay in the URL.
import { h, replace } from "../../../ui/dom.js";
import { get, patch, post, errorText } from "../common/http.js";
import { confirmDialog, failure, field, formMessage, loading } from "../common/page.js";
import { dataTable } from "../common/table.js";
import { formValues } from "../common/url.js";
import { ROLE_LABELS, choiceSelect, dateTime, loadRegions, pill, regionSelect } from "./common.js";

const STATES = { true: "启用", false: "停用" };

function scopeText(u) {
  if (u.institution_name) return `${u.institution_name}（${u.institution_code}）`;
  if (u.region_name) return `${u.region_name}（${u.region_code}）`;
  return "全部";
}

function stateCell(u) {
  return h("span.d-pills",
    u.is_active ? pill("启用", "ok") : pill("停用", "bad"),
    u.locked ? pill("已锁定", "warn") : null);
}

/** Role + scope controls: a region for 检查人员 / 监管人员, an institution code for managers. */
function scopeControls(regions, { role = "inspector", region = "", institution = "" } = {}) {
  const roleSel = choiceSelect(ROLE_LABELS, { name: "role", value: role, all: null });
  const regionField = field("所属地区", regionSelect(regions, { name: "region_code", value: region, all: "请选择地区" }));
  const instField = field("所属机构编码", h("input", { name: "institution_code", value: institution, placeholder: "如 P37100200001", autocomplete: "off" }));
  const sync = () => {
    const r = roleSel.value;
    regionField.hidden = !(r === "inspector" || r === "supervisor");
    instField.hidden = r !== "manager";
    const cert = roleSel.form && roleSel.form.querySelector(".d-cert-field");
    if (cert) cert.hidden = !(r === "inspector" || r === "supervisor");
  };
  roleSel.addEventListener("change", sync);
  queueMicrotask(sync); // once the controls are in their form (the 执法证号 field follows the role)
  sync();
  return { nodes: [field("角色", roleSel), regionField, instField], read(values) {
    const r = values.role;
    return {
      role: r,
      region_code: r === "inspector" || r === "supervisor" ? values.region_code || null : null,
      institution_code: r === "manager" ? (values.institution_code || "").trim() || null : null,
    };
  } };
}

/** 执法证号: for inspectors and supervisors (条例第二十九条: the notice names the inspectors with it). */
function certField(value) {
  const input = h("input.d-cert-input", { name: "enforcement_cert_no", value: value || "", maxlength: "32", placeholder: "如 37100220260001", autocomplete: "off" });
  const node = field("执法证号", input, "4–32 位字母、数字或连字符；印在其签字的整改通知书上");
  node.classList.add("d-cert-field");
  return node;
}

function createForm(regions, done) {
  const msg = h("p.d-msg", { hidden: true });
  const scope = scopeControls(regions);
  const form = h("form.d-form.d-card#user-create", { autocomplete: "off" },
    h("h2", "新建用户"),
    h("div.d-grid",
      field("用户名", h("input#user-username", { name: "username", required: true, minlength: "3", maxlength: "64" }), "字母、数字、点、下划线或连字符"),
      field("姓名", h("input#user-display", { name: "display_name", maxlength: "64" })),
      field("初始密码", h("input#user-password", { name: "password", type: "password", required: true, minlength: "8", autocomplete: "new-password" }), "至少 8 位"),
      ...scope.nodes,
      certField("")),
    msg,
    h("div.d-actions",
      h("button.btn.primary#user-create-submit", { type: "submit" }, "创建用户"),
      h("button.btn.secondary", { type: "button", onclick: () => done(null) }, "取消")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = { username: values.username.trim(), display_name: values.display_name.trim(), password: values.password, ...scope.read(values) };
    if (body.role === "inspector" || body.role === "supervisor") body.enforcement_cert_no = (values.enforcement_cert_no || "").trim();
    try {
      const user = await post("/api/admin/users", body);
      done(user);
    } catch (error) {
      formMessage(msg, errorText(error));
    }
  });
  return form;
}

async function sessionsTable(username) {
  const rows = await get("/api/admin/sessions", { username });
  const live = (s) => !s.revoked_at && new Date(s.expires_at) > new Date();
  return dataTable({
    rows,
    empty: "没有设备会话",
    columns: [
      { key: "device_name", label: "设备", render: (s) => s.device_name || s.device_id },
      { key: "created_at", label: "登录时间", render: (s) => dateTime(s.created_at) },
      { key: "last_seen_at", label: "最近使用", render: (s) => dateTime(s.last_seen_at) },
      { key: "state", label: "状态", render: (s) => live(s) ? pill("有效", "ok") : pill(s.revoked_at ? `已吊销（${s.revoked_by || ""}）` : "已过期", "neutral") },
    ],
  });
}

function detailPanel(user, regions, reload) {
  const msg = h("p.d-msg", { hidden: true });
  const act = async (label, fn) => {
    try {
      await fn();
      formMessage(msg, `${label}：已完成`, "ok");
      await reload(user.username, msg.textContent);
    } catch (error) {
      formMessage(msg, errorText(error));
    }
  };
  const scope = scopeControls(regions, { role: user.role, region: user.region_code || "", institution: user.institution_code || "" });
  const roleForm = h("form.d-inline-form#user-role-form", h("div.d-grid", ...scope.nodes),
    h("button.btn.secondary", { type: "submit" }, "保存角色与范围"));
  roleForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = scope.read(formValues(roleForm));
    act("修改角色", () => patch(`/api/admin/users/${encodeURIComponent(user.username)}`, body));
  });
  const staff = user.role === "inspector" || user.role === "supervisor";
  const certForm = staff ? h("form.d-inline-form#user-cert-form", certField(user.enforcement_cert_no),
    h("button.btn.secondary", { type: "submit" }, "保存执法证号")) : null;
  if (certForm) {
    certForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const { enforcement_cert_no: cert } = formValues(certForm);
      act("保存执法证号", () => patch(`/api/admin/users/${encodeURIComponent(user.username)}`, { enforcement_cert_no: (cert || "").trim() }));
    });
  }
  const pwForm = h("form.d-inline-form#user-password-form",
    field("新密码", h("input", { name: "password", type: "password", minlength: "8", required: true, autocomplete: "new-password" }), "重置后该用户所有设备需重新登录"),
    h("button.btn.secondary", { type: "submit" }, "重置密码"));
  pwForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const { password } = formValues(pwForm);
    act("重置密码", () => patch(`/api/admin/users/${encodeURIComponent(user.username)}`, { password }));
  });
  const sessions = h("div", loading("正在加载设备会话…"));
  sessionsTable(user.username).then((t) => replace(sessions, t), (e) => replace(sessions, failure(e)));
  const path = `/api/admin/users/${encodeURIComponent(user.username)}`;
  return h("section.d-card.d-user-detail#user-detail",
    h("div.d-card-head", h("h2", `${user.display_name || user.username}（${user.username}）`),
      h("span.d-row-actions", stateCell(user),
        h("button.btn.secondary.small#user-detail-close", { type: "button", onclick: (e) => e.target.closest("#user-detail").remove() }, "关闭"))),
    h("p.d-sub", `${ROLE_LABELS[user.role]} · ${scopeText(user)}${staff ? ` · 执法证号 ${user.enforcement_cert_no || "未登记"}` : ""} · 最近登录 ${dateTime(user.last_login_at)}`),
    msg,
    h("div.d-actions",
      user.is_active
        ? h("button.btn.danger#user-disable", { type: "button", onclick: async () => {
          if (await confirmDialog({ title: `停用 ${user.username}？`, body: "停用后该用户不能登录，所有设备立即退出。", confirmText: "停用", danger: true })) {
            act("停用", () => patch(path, { is_active: false }));
          } } }, "停用")
        : h("button.btn.secondary#user-enable", { type: "button", onclick: () => act("启用", () => patch(path, { is_active: true })) }, "启用"),
      user.locked ? h("button.btn.secondary#user-unlock", { type: "button", onclick: () => act("解锁", () => patch(path, { unlock: true })) }, "解锁") : null,
      h("button.btn.secondary#user-revoke", { type: "button", onclick: async () => {
        if (await confirmDialog({ title: `吊销 ${user.username} 的全部设备？`, body: "该用户在每台设备上都需要重新登录；设备上尚未同步的数据不会丢失，但登录后才能上传。", confirmText: "吊销全部设备", danger: true })) {
          act("吊销全部设备", () => post(`${path}/revoke-devices`));
        } } }, "吊销全部设备")),
    h("div.d-split", roleForm, pwForm),
    certForm,
    h("h3", "设备会话"),
    sessions);
}

/** Render the 用户 tab. */
export async function render(el, ctx) {
  replace(el, loading());
  const q = ctx.query;
  let regions;
  let users;
  try {
    [regions, users] = await Promise.all([
      loadRegions(),
      get("/api/admin/users", { role: q.role, region: q.region, active: q.active }),
    ]);
  } catch (error) {
    replace(el, failure(error, () => render(el, ctx)));
    return;
  }
  const filters = h("form.d-filters#user-filters",
    field("角色", choiceSelect(ROLE_LABELS, { name: "role", value: q.role || "" })),
    field("地区", regionSelect(regions, { value: q.region || "" })),
    field("状态", choiceSelect(STATES, { name: "active", value: q.active || "" })));
  filters.addEventListener("change", () => ctx.setQuery({ ...q, ...formValues(filters), user: "" }));
  const detail = h("div");
  const createArea = h("div");
  const notice = h("p.d-msg", { hidden: true });

  const showDetail = (user) => {
    replace(detail, detailPanel(user, regions, async (username, text) => {
      const fresh = await get("/api/admin/users", { role: q.role, region: q.region, active: q.active });
      users = fresh;
      replace(tableArea, table());
      const again = fresh.find((u) => u.username === username);
      if (again) { showDetail(again); formMessage(detail.querySelector(".d-msg"), text, "ok"); } else replace(detail);
    }));
    detail.scrollIntoView({ block: "nearest" });
  };
  const table = () => dataTable({
    id: "user-table",
    rows: users,
    rowKey: (u) => u.username,
    empty: "没有符合条件的用户",
    onRow: (u) => showDetail(u),
    columns: [
      { key: "username", label: "用户名" },
      { key: "display_name", label: "姓名" },
      { key: "role", label: "角色", render: (u) => ROLE_LABELS[u.role] || u.role },
      { key: "scope", label: "范围", render: scopeText },
      { key: "enforcement_cert_no", label: "执法证号", render: (u) => (u.role === "inspector" || u.role === "supervisor" ? (u.enforcement_cert_no || h("span.d-hint", "未登记")) : "—") },
      { key: "state", label: "状态", render: stateCell },
      { key: "last_login_at", label: "最近登录", cls: "d-nowrap", render: (u) => dateTime(u.last_login_at) },
    ],
  });
  const tableArea = h("div", table());
  const newButton = h("button.btn.primary#user-new", { type: "button", onclick: () => {
    replace(createArea, createForm(regions, async (user) => {
      replace(createArea);
      if (user) {
        formMessage(notice, `已创建用户 ${user.username}（${ROLE_LABELS[user.role]}）`, "ok");
        users = await get("/api/admin/users", { role: q.role, region: q.region, active: q.active });
        replace(tableArea, table());
      }
    }));
    createArea.querySelector("input").focus();
  } }, "新建用户");
  // The chosen user's panel sits above the list, where the eye is after the click.
  replace(el, h("div.d-toolbar", filters, newButton), notice, createArea, detail, tableArea);
}
