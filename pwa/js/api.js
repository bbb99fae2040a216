// Talking to the server: bearer tokens, silent refresh with the device-bound refresh credential,
// and errors that carry the server's message (in Chinese) for the user.
import { getMeta, setMeta, deviceId } from "./db.js";
import { emit } from "./events.js";

/** A request the server refused (status and its message); `body` is the parsed JSON if any. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The session is over (revoked, expired beyond refresh): the user must log in again. */
export class AuthRequired extends ApiError {}

/** No answer from the server (offline, timeout, connection dropped). */
export class NetworkError extends Error {}

export async function session() {
  return getMeta("session");
}

async function parse(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("application/json")) return response.json();
  return null;
}

async function send(path, { method = "GET", json, form, headers = {}, timeoutMs = 30000 } = {}, token) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  init.signal = controller.signal;
  try {
    return await fetch(path, init);
  } catch (error) {
    throw new NetworkError(error.name === "AbortError" ? "请求超时" : "无法连接服务器");
  } finally {
    clearTimeout(timer);
  }
}

let refreshing = null;

/** Get a new access token with the refresh credential (one refresh at a time). */
async function refreshAccess() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = await session();
      if (!current || !current.refresh_token) throw new AuthRequired(401, "请先登录");
      const response = await send("/api/auth/refresh", {
        method: "POST",
        json: { refresh_token: current.refresh_token, device_id: current.device_id },
      });
      const body = await parse(response);
      if (response.status === 401 || response.status === 403) {
        emit("auth-required", { reason: body && body.detail });
        throw new AuthRequired(response.status, (body && body.detail) || "登录已失效，请重新登录", body);
      }
      if (!response.ok) throw new ApiError(response.status, (body && body.detail) || "刷新登录失败", body);
      await setMeta("session", { ...current, access_token: body.access_token,
        access_expires_at: Date.now() + body.expires_in * 1000 });
      return body.access_token;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/**
 * Call the API. Adds the bearer token, refreshes it once on 401, and throws ApiError (with the
 * server's message), AuthRequired or NetworkError. Returns {status, body, headers}.
 */
export async function api(path, options = {}) {
  const current = await session();
  let token = current && current.access_token;
  if (token && current.access_expires_at && current.access_expires_at < Date.now() + 30000) {
    token = await refreshAccess();
  }
  let response = await send(path, options, token);
  if (response.status === 401 && current) {
    token = await refreshAccess();
    response = await send(path, options, token);
  }
  if (response.status === 401) {
    emit("auth-required", {});
    throw new AuthRequired(401, "登录已失效，请重新登录");
  }
  const body = response.status === 304 ? null : await parse(response);
  if (!response.ok && response.status !== 304 && response.status !== 207) {
    throw new ApiError(response.status, (body && body.detail) || `服务器错误（${response.status}）`, body);
  }
  return { status: response.status, body, headers: response.headers };
}

/** Log in and keep the session (with the refresh credential) on this device. */
export async function login(username, password) {
  const device = await deviceId();
  const response = await send("/api/auth/login", {
    method: "POST",
    json: { username, password, device_id: device, device_name: navigator.userAgent.slice(0, 120) },
  });
  const body = await parse(response);
  if (!response.ok) {
    throw new ApiError(response.status, (body && body.detail) || "登录失败", body);
  }
  const value = {
    username: body.user.username,
    display_name: body.user.display_name,
    role: body.user.role,
    role_label: body.user.role_label,
    user_id: body.user.id,
    region_name: body.user.region_name,
    institution_id: body.user.institution_id,
    institution_name: body.user.institution_name,
    device_id: body.device_id,
    session_id: body.session_id,
    access_token: body.access_token,
    access_expires_at: Date.now() + body.expires_in * 1000,
    refresh_token: body.refresh_token,
  };
  await setMeta("session", value);
  emit("session", value);
  return value;
}

/** End the session here and on the server (best effort: offline logout still forgets it). */
export async function logout() {
  try {
    await api("/api/auth/logout", { method: "POST", timeoutMs: 5000 });
  } catch (error) {
    // Offline or already revoked: the local session is dropped anyway.
  }
  await setMeta("session", null);
  emit("session", null);
}
