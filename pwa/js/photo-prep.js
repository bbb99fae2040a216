// Camera images made small before they are stored: a 12 MP tablet photo is 4–8 MB; the server
// keeps at most 2048 px anyway, so storing and uploading more only fills the tablet and stalls the
// upload on a weak 3G link. Turned upright here (EXIF orientation), never enlarged.

/** SHA-256 of a blob's bytes, as lowercase hex (what POST /api/photos checks). */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function makeCanvas(width, height) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

async function canvasBlob(canvas, type, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type, quality });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("图片编码失败"))), type, quality);
  });
}

/**
 * Downscale and re-encode a camera image for storage.
 * @param {Blob|File} file the image as chosen or captured.
 * @param {{maxSide?: number, quality?: number, type?: string}} [options]
 *   maxSide: longest side in px (2048); quality: JPEG/WebP quality (0.82); type: "image/jpeg".
 * @returns {Promise<{blob: Blob, width: number, height: number, type: string, size: number}>}
 * @throws {Error} with a message for the user when the file is not a readable image.
 */
export async function prepareImage(file, { maxSide = 2048, quality = 0.82, type = "image/jpeg" } = {}) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    throw new Error("无法读取该图片，请重新拍摄");
  }
  try {
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = makeCanvas(width, height);
    const ctx = canvas.getContext("2d");
    if (type === "image/jpeg") {
      ctx.fillStyle = "#fff"; // JPEG has no alpha: transparent areas would turn black
      ctx.fillRect(0, 0, width, height);
    }
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, width, height);
    const blob = await canvasBlob(canvas, type, quality);
    return { blob, width, height, type: blob.type || type, size: blob.size };
  } finally {
    bitmap.close();
  }
}

/**
 * A drawn signature as PNG (lossless, transparent background: the strokes stay crisp).
 * @param {HTMLCanvasElement|OffscreenCanvas} canvas the signature pad's canvas.
 * @returns {Promise<{blob: Blob, width: number, height: number, type: string, size: number}>}
 */
export async function prepareSignature(canvas) {
  const blob = await canvasBlob(canvas, "image/png");
  return { blob, width: canvas.width, height: canvas.height, type: "image/png", size: blob.size };
}
