// The panel a screen shows when the inspection it was opened for is not on this device.
import { h } from "./dom.js";
import { icon } from "./icons.js";

/** Why the record can't be shown (no record, or its checklist not downloaded), and a way home. */
export function missingRecordPanel(data) {
  return h("div.panel.empty", icon("warning", { size: 32 }),
    h("p", data ? "本设备上缺少这份检查表，请联网同步后再打开。" : "本设备上没有这条检查记录。"),
    h("a.btn.secondary", { href: "#/" }, "返回首页"));
}
