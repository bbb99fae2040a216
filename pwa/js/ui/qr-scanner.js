// Reading an institution's QR code: the camera (BarcodeDetector where the browser has it, else
// jsQR on canvas frames) or an image file. Returns the decoded text; the caller parses it.

let jsqrLoading = null;

/** Load the vendored jsQR (UMD: sets window.jsQR) once, on first need. */
function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  if (!jsqrLoading) {
    jsqrLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/vendor/jsQR-1.4.0.js";
      script.onload = () => resolve(window.jsQR);
      script.onerror = () => { jsqrLoading = null; reject(new Error("二维码识别组件加载失败")); };
      document.head.append(script);
    });
  }
  return jsqrLoading;
}

let detector;
async function barcodeDetector() {
  if (detector !== undefined) return detector;
  detector = null;
  try {
    if ("BarcodeDetector" in window) {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    }
  } catch (error) {
    detector = null;
  }
  return detector;
}

const canvas = () => document.createElement("canvas");

function decodePixels(jsQR, ctx, width, height) {
  const image = ctx.getImageData(0, 0, width, height);
  const code = jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" });
  return code ? code.data : null;
}

/** Decode a QR code from an image file (a photo of the poster, a screenshot). Text or null. */
export async function decodeImageFile(file) {
  const bitmap = await createImageBitmap(file);
  try {
    const found = await barcodeDetector();
    if (found) {
      const codes = await found.detect(bitmap);
      if (codes.length) return codes[0].rawValue;
    }
    const jsQR = await loadJsQR();
    // Try the image at a workable size, then smaller (jsQR likes modules of a few pixels).
    for (const limit of [1400, 800, 2400]) {
      const scale = Math.min(1, limit / Math.max(bitmap.width, bitmap.height));
      const w = Math.max(1, Math.round(bitmap.width * scale));
      const hgt = Math.max(1, Math.round(bitmap.height * scale));
      const c = canvas();
      c.width = w;
      c.height = hgt;
      const ctx = c.getContext("2d", { willReadFrequently: true });
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, w, hgt);
      ctx.drawImage(bitmap, 0, 0, w, hgt);
      const text = decodePixels(jsQR, ctx, w, hgt);
      if (text) return text;
    }
    return null;
  } finally {
    bitmap.close && bitmap.close();
  }
}

/** Why the camera could not be used, in words. */
export function cameraErrorMessage(error) {
  const name = error && error.name;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "此浏览器不支持调用摄像头";
  if (name === "NotAllowedError" || name === "SecurityError") return "未获得摄像头权限，请在浏览器设置中允许使用摄像头";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "未找到可用的摄像头";
  if (name === "NotReadableError") return "摄像头被其他应用占用";
  return "无法打开摄像头";
}

/**
 * Scan with the camera into `video`. Calls onCode(text) for each decoded code (the caller
 * decides when to stop). Resolves with a stop() function; rejects when the camera can't open.
 */
export async function startCameraScan(video, onCode) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const error = new Error("no camera API");
    error.name = "NotSupportedError";
    throw error;
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: false,
  });
  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  video.muted = true;
  await video.play().catch(() => {});
  const found = await barcodeDetector();
  const jsQR = found ? null : await loadJsQR();
  const c = canvas();
  const ctx = c.getContext("2d", { willReadFrequently: true });
  let stopped = false;
  let last = "";
  let timer = null;

  async function tick() {
    if (stopped) return;
    try {
      if (video.readyState >= 2 && video.videoWidth) {
        let text = null;
        if (found) {
          const codes = await found.detect(video);
          text = codes.length ? codes[0].rawValue : null;
        } else {
          const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
          c.width = Math.round(video.videoWidth * scale);
          c.height = Math.round(video.videoHeight * scale);
          ctx.drawImage(video, 0, 0, c.width, c.height);
          text = decodePixels(jsQR, ctx, c.width, c.height);
        }
        if (text && text !== last) {
          last = text;
          onCode(text);
        }
      }
    } catch (error) {
      // A frame that fails to decode is ordinary; keep scanning.
    }
    if (!stopped) timer = setTimeout(tick, 180);
  }
  tick();
  return function stop() {
    stopped = true;
    clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
}

/** The institution token a code holds ({base}/s/{token} or yibao:inst:{token}), or null. */
export function parseQrPayload(text) {
  if (typeof text !== "string") return null;
  const raw = text.trim();
  const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;
  if (!raw || raw.length > 512) return null;
  if (raw.slice(0, 11).toLowerCase() === "yibao:inst:") {
    const token = raw.slice(11);
    return TOKEN.test(token) ? token : null;
  }
  let url;
  try {
    url = new URL(raw);
  } catch (error) {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  let path = url.pathname;
  if (path.endsWith("/")) path = path.slice(0, -1);
  const at = path.lastIndexOf("/");
  const head = path.slice(0, at);
  const token = path.slice(at + 1);
  if (head !== "/s" && !head.endsWith("/s")) return null;
  return TOKEN.test(token) ? token : null;
}
