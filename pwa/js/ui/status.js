// The state of a record as a chip: icon + word (colour is never the only signal).
import { h } from "./dom.js";
import { icon } from "./icons.js";
import { STATE_LABELS } from "./format.js";

const ICONS = { draft: "pen", queued: "clock", syncing: "sync", synced: "check", rejected: "warning" };

/** 草稿 / 待同步 / 同步中 / 已同步 / 被退回 as a chip. */
export function stateChip(state) {
  return h(`span.chip.state-${state}`, { dataset: { state } }, icon(ICONS[state] || "info", { size: 16 }), STATE_LABELS[state] || state);
}
