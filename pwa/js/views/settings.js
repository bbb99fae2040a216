// 设置: how this tablet sends photos. 「联网时自动上传照片」 (on by default): while the server
// answers, a draft's photos and signatures go during the visit, so that at 提交 only the record is
// left to send; off, they wait for 提交 (e.g. on a metered link).
import { on } from "../events.js";
import { isOnline } from "../connection.js";
import { autoUploadPhotos, queueStatus, setAutoUploadPhotos } from "../sync-queue.js";
import { h, replace } from "../ui/dom.js";
import { icon } from "../ui/icons.js";
import { toast } from "../ui/toast.js";

export async function render(root) {
  const state = h("p.small.muted#auto-upload-state");
  const box = h("input#auto-upload-photos", { type: "checkbox", checked: await autoUploadPhotos() });
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      await setAutoUploadPhotos(box.checked);
      toast(box.checked ? "已开启：联网时自动上传照片" : "已关闭：照片将在提交后上传", { kind: "info", timeout: 2500 });
    } finally {
      box.disabled = false;
      paintState();
    }
  });

  async function paintState(status = null) {
    const s = status || (await queueStatus());
    const waiting = s.photosWaiting || 0;
    replace(state,
      waiting === 0 ? "本设备上的照片和签名都已上传。"
        : !s.autoUploadPhotos ? `本设备上有 ${waiting} 张照片或签名未上传，将在提交检查后随记录上传。`
          : isOnline() ? `本设备上有 ${waiting} 张照片或签名未上传，正在后台逐张上传。`
            : `本设备上有 ${waiting} 张照片或签名未上传，联网后自动上传。`);
  }

  root.append(h("div.narrow",
    h("div.page-head", h("div",
      h("a.back-link", { href: "#/" }, icon("chevronLeft", { size: 20 }), "首页"),
      h("h1", "设置"))),
    h("section.panel.settings-panel", { "aria-labelledby": "settings-photos" },
      h("h2#settings-photos", "照片上传"),
      h("label.check-row", { for: "auto-upload-photos" }, box, "联网时自动上传照片"),
      h("p.muted", "开启后，检查过程中拍摄的照片和签名在能连接服务器时逐张在后台上传，不影响填写；",
        "提交时只需上传检查记录，同步更快。离线时照片保存在本设备上，联网后继续上传。"),
      h("p.muted", "关闭后，照片和签名在提交检查后才随记录上传（适合按流量计费的网络）。"),
      h("p.muted", "草稿提交前，已上传的照片只有本组检查人员和本辖区监管人员可以查看，被检查机构看不到；",
        "删除或重拍的照片也会从服务器上删除。"),
      state,
      h("a.btn.secondary", { href: "#/sync" }, icon("sync", { size: 20 }), "查看同步状态")),
  ));
  await paintState();
  const stops = [on("sync-state", (s) => { paintState(s).catch(console.error); })];
  return () => stops.forEach((stop) => stop());
}
