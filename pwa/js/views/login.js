// 登录, for every role: username and password. Each role then lands on its own home (app.js);
// an inspector's tablet works offline after its first login.
import { login, ApiError, NetworkError } from "../api.js";
import { db } from "../db.js";
import { h } from "../ui/dom.js";
import { icon } from "../ui/icons.js";

export async function render(root, _params, app) {
  const waiting = await db.inspections.where("state").anyOf("draft", "queued", "syncing", "rejected").count();
  const previous = app.session;

  const error = h("div.form-error", { id: "login-error", role: "alert", hidden: true });
  const username = h("input#login-username", {
    name: "username", type: "text", autocomplete: "username", autocapitalize: "off",
    spellcheck: "false", required: true, value: (previous && previous.username) || "",
  });
  const password = h("input#login-password", {
    name: "password", type: "password", autocomplete: "current-password", required: true,
  });
  const submit = h("button.btn.primary.block.large#login-submit", { type: "submit" }, "登录");

  const reasonBox = app.authReason ? h("div.callout.warning#login-reason", { role: "alert" },
    icon("lock"),
    h("div",
      h("strong", "需要重新登录"),
      h("p", `${app.authReason}。请重新输入密码。`),
      waiting ? h("p", `本设备上的 ${waiting} 条检查记录已安全保存，不会丢失；登录后自动继续同步。`) : null)) : null;

  const form = h("form.login-form", { novalidate: true },
    h("div.field",
      h("label", { for: "login-username" }, "用户名"),
      username),
    h("div.field",
      h("label", { for: "login-password" }, "密码"),
      password),
    error,
    submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!username.value.trim() || !password.value) {
      showError("请输入用户名和密码");
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "正在登录…";
    try {
      const session = await login(username.value.trim(), password.value);
      app.session = session;
      app.authReason = null;
      const back = app.returnTo && !app.returnTo.startsWith("/login") ? app.returnTo : "/";
      app.returnTo = null;
      app.navigate(`#${back}`, { replace: true });
    } catch (err) {
      if (err instanceof NetworkError) {
        showError("无法连接服务器。首次登录（或登录失效后重新登录）需要联网，请检查网络后重试。");
      } else if (err instanceof ApiError) {
        showError(err.status >= 500 ? `服务器暂时无法处理（${err.status}），请稍后重试` : err.message);
      } else {
        showError(`登录失败：${err.message}`);
      }
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = "登录";
    }
  });

  function showError(text) {
    error.replaceChildren(icon("warning", { size: 20 }), h("span", text));
    error.hidden = false;
  }

  root.append(
    h("div.login-wrap",
      h("section.login-card.panel",
        h("div.login-head",
          h("span.login-mark", icon("shield", { size: 36 })),
          h("div",
            h("h1", "医保定点医药机构监督检查"),
            h("p.muted#login-roles", "检查人员、监管人员、机构医保负责人、系统管理员登录"))),
        reasonBox,
        form,
        h("ul.login-roles",
          h("li", h("b", "检查人员"), "：现场检查、签字、提交"),
          h("li", h("b", "监管人员、系统管理员"), "：工作台（验收、检查计划、双随机抽取、系统管理）"),
          h("li", h("b", "机构医保负责人"), "：整改通知书、提交整改报告、申诉")),
        h("div.login-note",
          icon("info", { size: 20 }),
          h("p", "检查人员在平板上登录一次后，本设备会下载检查任务、检查表和机构资料，之后", h("strong", "没有网络也能完成整个现场检查"), "；记录保存在本设备上，联网后自动同步。")))),
  );
  return { mounted: () => (username.value ? password : username).focus() };
}
