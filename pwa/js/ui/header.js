// The header's user menu: who is signed in (name in full, role, region or institution) and
// 退出登录, for every role. The status items that concern only inspectors (待同步, 上次同步, the
// 同步 button) are shown to inspectors only: nobody is offered what the server refuses them.

const $ = (id) => document.getElementById(id);

let wired = false;

/** Open or close the menu (and keep aria-expanded in step). */
function setOpen(open) {
  const button = $("header-user");
  const panel = $("user-menu-panel");
  if (!button || !panel) return;
  panel.hidden = !open;
  button.setAttribute("aria-expanded", open ? "true" : "false");
}

/**
 * Wire the menu once: the button toggles it; a tap elsewhere, Esc or choosing an item closes it;
 * 退出登录 loads the sign-out flow (ui/logout.js) only when asked for.
 * @param {object} app the app object of app.js.
 */
export function setupHeader(app) {
  if (wired) return;
  wired = true;
  const button = $("header-user");
  const panel = $("user-menu-panel");
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    setOpen(panel.hidden);
    if (!panel.hidden) $("header-logout").focus();
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !panel.contains(event.target)) setOpen(false);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      setOpen(false);
      button.focus();
    }
  });
  $("user-menu-sync").addEventListener("click", () => setOpen(false));
  $("user-menu-settings").addEventListener("click", () => setOpen(false));
  $("header-logout").addEventListener("click", async () => {
    setOpen(false);
    const { signOut } = await import("./logout.js");
    await signOut(app);
  });
}

/**
 * Show who is signed in, and the header items that fit the role.
 * @param {object|null} session the stored session (null: signed out).
 */
export function showUser(session) {
  const inspector = !!session && session.role === "inspector";
  document.body.dataset.role = session ? session.role : "";
  $("user-menu").hidden = !session;
  $("sync-now").hidden = !inspector;
  $("queue-status").hidden = !inspector;
  $("last-sync").hidden = !inspector;
  $("user-menu-sync").hidden = !inspector;
  $("user-menu-settings").hidden = !inspector;
  setOpen(false);
  if (!session) return;
  const name = session.display_name || session.username;
  $("header-user-name").textContent = name;
  $("header-user").setAttribute("aria-label", `${name}：账号菜单`);
  $("user-menu-name").textContent = `${name}（${session.username}）`;
  $("user-menu-role").textContent = [session.role_label, session.institution_name || session.region_name]
    .filter(Boolean).join(" · ");
}
