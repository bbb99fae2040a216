// The desk's calls to the API: JSON in and out, query strings from plain objects, and one way of
// turning any failure into a sentence for the user. The desk is online-only.
import { api, ApiError, AuthRequired, NetworkError, session } from "../../../api.js";

export { ApiError };

/** Build `path?query` from an object, leaving out empty values (arrays repeat the key). */
export function withQuery(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** GET a JSON resource; returns the parsed body. */
export async function get(path, query = {}) {
  return (await api(withQuery(path, query))).body;
}

/** POST JSON; returns the parsed body. */
export async function post(path, json = {}) {
  return (await api(path, { method: "POST", json })).body;
}

/** PATCH JSON; returns the parsed body. */
export async function patch(path, json = {}) {
  return (await api(path, { method: "PATCH", json })).body;
}

/** DELETE; returns the parsed body (often null). */
export async function del(path) {
  return (await api(path, { method: "DELETE" })).body;
}

/** POST a multipart form (file uploads); returns the parsed body. */
export async function upload(path, formData, { timeoutMs = 120000 } = {}) {
  return (await api(path, { method: "POST", form: formData, timeoutMs })).body;
}

/** A sentence for the user from any failure: the server's own message where there is one. */
export function errorText(error) {
  if (error instanceof NetworkError) return "无法连接服务器，请检查网络后重试。";
  if (error instanceof AuthRequired) return "登录已失效，请重新登录。";
  if (error instanceof ApiError) {
    if (error.status >= 500) return `服务器暂时无法处理（${error.status}），请稍后重试。`;
    if (error.status === 404) return `未找到该记录，或不在您的管辖范围内（${error.message}）。`;
    if (error.status === 403) return error.message || "无权执行此操作。";
    return error.message;
  }
  return (error && error.message) || String(error);
}

/**
 * Download a file the API serves behind the login (XLSX, CSV, PDF): fetch it with the token and
 * hand it to the browser under `filename`.
 */
export async function download(path, filename) {
  await api("/api/auth/me"); // renews the access token first when it is about to expire
  const current = await session();
  const response = await fetch(path, { headers: current ? { Authorization: `Bearer ${current.access_token}` } : {} });
  if (!response.ok) {
    let detail = `下载失败（${response.status}）`;
    try { detail = (await response.json()).detail || detail; } catch (error) { /* not JSON */ }
    throw new ApiError(response.status, detail, null);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
