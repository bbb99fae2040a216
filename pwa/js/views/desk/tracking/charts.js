// Charts of the 看板 and the 机构档案 through Apache ECharts, built from the library's own options
// object. The library (vendored, 5.6.0 common build) is loaded only when a chart is first drawn,
// so neither the inspector's shell nor the other desk screens pay for it.
import { h } from "../../../ui/dom.js";

const ECHARTS_SRC = "/vendor/desk/echarts-5.6.0.common.min.js";
let loading = null;

/** Load ECharts once (a classic script: the UMD build sets `window.echarts`). */
export function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = h("script", { src: ECHARTS_SRC, async: true });
      script.addEventListener("load", () => resolve(window.echarts));
      script.addEventListener("error", () => { loading = null; reject(new Error("图表组件加载失败，请刷新重试")); });
      document.head.append(script);
    });
  }
  return loading;
}

// The app's palette (app.css tokens), in ECharts' terms.
export const COLORS = {
  primary: "#1a4f96", soft: "#b9cbe6", pass: "#156336", fail: "#b02a20", warn: "#b7791f", na: "#8a94a3",
  grades: { 优秀: "#156336", 良好: "#3f7fca", 合格: "#b7791f", 不合格: "#b02a20" },
};
const FONT = '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';

/** Resolves once `el` is in the document (a view is built before the app puts it on screen). */
function connected(el, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const started = Date.now();
    const check = () => {
      if (el.isConnected) resolve(true);
      else if (Date.now() - started > timeoutMs) resolve(false);
      else requestAnimationFrame(check);
    };
    check();
  });
}

/**
 * Draw a chart into `el` from an ECharts option, as soon as `el` is on screen; `onClick(params)`
 * runs on a click on a bar, a point or a slice. Returns at once a function that disposes of the
 * chart (and its resize watcher). A failure to load the library is written into `el`.
 */
export function drawChart(el, option, onClick = null) {
  let disposed = false;
  let dispose = () => {};
  Promise.all([loadECharts(), connected(el)]).then(([echarts, onScreen]) => {
    if (disposed || !onScreen) return;
    const chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({ textStyle: { fontFamily: FONT }, animation: false, ...option });
    if (onClick) {
      chart.on("click", onClick);
      el.classList.add("d-chart-clickable");
    }
    const watcher = new ResizeObserver(() => chart.resize());
    watcher.observe(el);
    dispose = () => { watcher.disconnect(); chart.dispose(); };
  }).catch((error) => {
    el.textContent = error.message;
    el.classList.add("d-chart-failed");
  });
  return () => { disposed = true; dispose(); };
}
