// The live preview: for a chosen sample bill, the frame at the scrubbed time (beside every
// tab) and, in the Preview tab, the poster, the microsite in a phone-sized frame and the grid
// of one scene over every ending, language and format. Redrawn after every change.
import { S, api, status } from "./studio.js";
import { h, setImage } from "./dom.js";

const $ = (id) => document.getElementById(id);
const live = { seq: 0, timer: null, last: null, siteSeq: 0 };

export function sample() {
  return { ending: $("ending").value, locale: $("locale").value, format: $("format").value };
}

export function setupLive() {
  $("time-out").textContent = `${Number($("time").value).toFixed(1)} s`;
  for (const id of ["ending", "locale", "format"]) $(id).addEventListener("change", () => { redrawLive(); redrawSite(); });
  $("time").addEventListener("input", () => {
    $("time-out").textContent = `${Number($("time").value).toFixed(1)} s`;
    clearTimeout(live.timer);
    live.timer = setTimeout(redrawLive, 60);
  });
}

function fillSelects() {
  const fill = (id, values, preferred) => {
    const el = $(id);
    if (el.options.length) return;
    for (const v of values) el.append(h("option", { value: v, selected: v === preferred }, v));
  };
  fill("ending", S.samples.endings, "nudge");
  const locales = S.form.texts ? S.form.texts.catalogs.video : ["en"];
  fill("locale", locales, locales.includes("it") ? "it" : locales[0]);
  fill("format", S.samples.formats, "16:9");
}

export async function redrawLive() {
  if (!S.form) return;
  fillSelects();
  const seq = ++live.seq;
  const img = $("frame");
  if (S.problems.length) {  // the version does not load: nothing to draw until it does
    $("scene-at").textContent = "No preview while the version has problems: see the Code tab.";
    return;
  }
  img.setAttribute("aria-busy", "true");
  const answer = await api.call("POST", `${api.base()}/preview/frames`, { edits: S.edits, ...sample(), t: Number($("time").value) });
  if (seq !== live.seq) return;
  img.removeAttribute("aria-busy");
  if (!answer.ok) { $("scene-at").textContent = `No preview: ${answer.body.error}`; status(answer.body.error, true); return; }
  live.last = answer.body;
  const frame = answer.body.frame;
  setImage(img, frame.image);
  img.dataset.seq = String(seq);
  img.dataset.scene = frame.scene;
  $("time").max = String(Math.max(0.1, frame.duration - 0.05).toFixed(2));
  $("scene-at").textContent = `${frame.time.toFixed(2)} s of ${frame.duration.toFixed(1)} s · scene “${frame.scene}” · ${frame.width}×${frame.height}`;
  $("marks").replaceChildren(...frame.marks.map((m) => h("li", {}, markText(m))));
  if (S.tab === "preview") showPoster();
}

function markText(m) {
  return [m.kind, m.scene, m.layer !== undefined ? `layer ${m.layer}` : null, m.detail || m.text || m.message]
    .filter((x) => x !== null && x !== undefined && x !== "").join(" · ");
}

function showPoster() {
  const img = $("poster");
  if (img && live.last) setImage(img, live.last.poster.image);
}

export function renderPreviewTab(panel) {
  const scenes = S.form.scenes || [];
  const gridScene = h("select", { id: "grid-scene" }, scenes.map((s) => h("option", { value: s.id }, s.id)));
  panel.replaceChildren(
    h("h2", {}, "Poster"),
    h("img", { id: "poster", alt: "The video's poster for the chosen sample bill", width: 640, height: 360, class: "poster" }),
    h("h2", {}, "Microsite"),
    h("p", { class: "muted" }, "The sample's page as a phone shows it (390 px wide)."),
    h("iframe", { id: "site", class: "phone", title: "The microsite of the sample bill", sandbox: "" }),
    h("h2", {}, "Grid"),
    h("p", { class: "muted" }, "One scene's settled frame for every ending, language and format; marked cells had text cut, a glyph missing or a layer off the frame."),
    h("div", { class: "field" }, h("label", { for: "grid-scene" }, "Scene"), gridScene,
      h("button", { type: "button", id: "grid-draw", onclick: () => drawGrid(gridScene.value) }, "Draw the grid")),
    h("div", { id: "grid", class: "grid-cells", "aria-live": "polite" }),
    h("h2", {}, "Full preview video"),
    h("p", { class: "muted" }, "The whole video of the chosen sample with the saved version, rendered on the queue and stamped PREVIEW on every frame, so it can never pass for a real one."),
    h("button", { type: "button", id: "video-queue", onclick: queueVideo }, "Queue a PREVIEW video"),
    h("p", { id: "video-state", role: "status" }),
    h("div", { id: "video-out" }),
  );
  showPoster();
  redrawSite();
}

export async function redrawSite() {
  const frame = $("site");
  if (!frame || S.tab !== "preview") return;
  const seq = ++live.siteSeq;
  if (S.problems.length) { frame.srcdoc = "<p>No preview while the version has problems.</p>"; return; }
  const answer = await api.call("POST", `${api.base()}/preview/site`, { edits: S.edits, ...sample() });
  if (seq !== live.siteSeq) return;
  if (answer.ok) frame.srcdoc = answer.body.html;
  else frame.srcdoc = `<p>${answer.body.error.replace(/[<&]/g, "")}</p>`;
}

async function drawGrid(scene) {
  const out = $("grid");
  out.replaceChildren(h("p", {}, "Drawing…"));
  const answer = await api.call("POST", `${api.base()}/preview/grid`, { edits: S.edits, scene });
  if (!answer.ok) { out.replaceChildren(h("p", { class: "error" }, answer.body.error)); return; }
  out.replaceChildren(...answer.body.cells.map((c) => {
    const marked = (c.marks && c.marks.length) || c.error;
    const img = c.image ? h("img", { alt: `${scene} for ${c.ending}, ${c.locale}, ${c.format}` }) : null;
    if (img) setImage(img, c.image);
    return h("figure", { class: `cell${marked ? " marked" : ""}` }, img,
      h("figcaption", {}, `${c.ending} · ${c.locale} · ${c.format}`,
        c.absent ? ` · not shown for this bill${c.note ? ` (${c.note})` : ""}` : null, c.error ? h("span", { class: "error" }, ` · ${c.error}`) : null,
        (c.marks || []).map((m) => h("div", { class: "marks" }, markText(m)))));
  }));
}

async function queueVideo() {
  const out = $("video-state");
  if (S.edits.length) { out.textContent = "Save first: the video is made from the saved version."; return; }
  const answer = await api.call("POST", `${api.base()}/preview/video`, sample());
  if (!answer.ok) { out.textContent = answer.body.error; return; }
  poll(answer.body.id, 0);
}

async function poll(id, tries) {
  const out = $("video-state");
  const answer = await api.call("GET", `/dashboard/studio/api/preview-videos/${id}`);
  if (!answer.ok) { out.textContent = answer.body.error; return; }
  const body = answer.body;
  out.textContent = `${body.template}: ${body.status}`;
  if (body.status === "done") {
    $("video-out").replaceChildren(h("p", {}, h("a", { href: body.links.video, target: "_blank", rel: "noopener" },
      "Open the PREVIEW video"), " (its poster: ", h("a", { href: body.links.poster, target: "_blank", rel: "noopener" }, "poster.jpg"), ")"));
  } else if (body.status !== "failed" && tries < 200) {
    setTimeout(() => poll(id, tries + 1), 3000);
  }
}
