// Images and documents the server serves only with the bearer token (photos, notices): fetched
// with it, shown through object URLs. Used by the inspector's screens after sync and by the
// manager's screens.
import { api, session } from "../api.js";

export async function authedFetch(url) {
  const current = await session();
  const headers = current && current.access_token ? { Authorization: `Bearer ${current.access_token}` } : {};
  let response = await fetch(url, { headers });
  if (response.status === 401) {
    // Let api() refresh the access token, then try once more.
    try { await api("/api/auth/me"); } catch (error) { /* reported by api() */ }
    const again = await session();
    response = await fetch(url, { headers: again && again.access_token ? { Authorization: `Bearer ${again.access_token}` } : {} });
  }
  return response;
}

const blobUrls = new Map();

/** An object URL for an image that needs the bearer token (cached for the page's life). */
export async function imageUrl(url) {
  if (blobUrls.has(url)) return blobUrls.get(url);
  const response = await authedFetch(url);
  if (!response.ok) throw new Error(`图片无法加载（${response.status}）`);
  const objectUrl = URL.createObjectURL(await response.blob());
  blobUrls.set(url, objectUrl);
  return objectUrl;
}

/**
 * Open a document or photo that needs the token in a new tab (as a blob URL). The tab is opened
 * at once (inside the tap) so pop-up blockers allow it, then pointed at the content.
 */
export async function openAuthed(url, kind = "document") {
  const tab = window.open("", "_blank");
  if (tab) tab.document.write(`<p style="font:16px sans-serif;padding:24px">正在打开${kind === "image" ? "照片" : "通知书"}…</p>`);
  try {
    const response = await authedFetch(url);
    if (!response.ok) {
      let detail = `服务器错误（${response.status}）`;
      try { detail = (await response.json()).detail || detail; } catch (error) { /* not JSON */ }
      throw new Error(detail);
    }
    const blob = await response.blob();
    const objectUrl = URL.createObjectURL(blob);
    if (tab) tab.location.href = objectUrl;
    else location.assign(objectUrl);
  } catch (error) {
    const text = error instanceof TypeError ? "无法连接服务器，请联网后重试" : error.message;
    if (tab) tab.document.body.textContent = `打开失败：${text}`;
    throw error;
  }
}

