// The studio's editor: one version's form, edits kept here until saved (undo and redo are
// this list), a live preview redrawn after each change, save with If-Match, publish.
import { call } from "./api.js";
import { renderTheme } from "./theme.js";
import { renderTexts } from "./texts.js";
import { renderScenes } from "./scenes.js";
import { renderCode } from "./code.js";
import { renderPreviewTab, setupLive, redrawLive } from "./preview.js";
import { renderHistory } from "./history.js";
import { showConflict, hideConflict } from "./conflict.js";
import { h } from "./dom.js";

const root = document.getElementById("studio");
const $ = (id) => document.getElementById(id);
const PANELS = { theme: renderTheme, texts: renderTexts, scenes: renderScenes, code: renderCode,
                 preview: renderPreviewTab, history: renderHistory };

export const S = {
  name: root.dataset.name, number: Number(root.dataset.number),
  version: null, versions: [], form: null, files: {}, problems: [], changed: {},
  edits: [], redo: [], tab: "theme", seq: 0,
};
const base = () => `/dashboard/studio/api/${S.name}/${S.number}`;
export const api = { base, call };

function status(text, bad = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("bad", bad);
}
export { status };

export function readOnly() { return !S.version || S.version.state !== "draft"; }

export function fileText(path) {
  if (path in S.changed) return S.changed[path] ? S.changed[path].text : null;
  return S.files[path] ? S.files[path].text : null;
}

export function edit(op) {
  if (readOnly()) return;
  S.edits.push(op);
  S.redo = [];
  refresh();
}

// The code view edits a file as you type: one undo step per file until another edit comes.
export function editFile(path, text) {
  if (readOnly()) return;
  const last = S.edits[S.edits.length - 1];
  if (last && last.op === "set_file" && last.path === path) last.text = text;
  else S.edits.push({ op: "set_file", path, text });
  S.redo = [];
  refresh({ keepCode: true });
}

async function refresh(options = {}) {
  const seq = ++S.seq;
  bar();
  status("Checking…");
  const answer = await call("POST", `${base()}/form`, { edits: S.edits });
  if (seq !== S.seq) return;  // a newer change is on its way
  if (answer.status === 422 && answer.body.field) {
    const refused = S.edits.pop();
    status(`Not changed: ${answer.body.field}: ${answer.body.error}`, true);
    if (refused) refresh();
    return;
  }
  if (!answer.ok) { status(answer.body.error || "The change could not be checked.", true); return; }
  S.form = answer.body.form;
  S.problems = answer.body.problems;
  S.changed = answer.body.changed;
  render(options);
  const count = S.edits.length;
  status(count ? `${count} unsaved change${count > 1 ? "s" : ""}` +
    (S.problems.length ? ` · ${S.problems.length} problem(s): see Code` : "") : "No unsaved changes");
  redrawLive();
}

function bar() {
  const ro = readOnly();
  $("undo").disabled = ro || !S.edits.length;
  $("redo").disabled = ro || !S.redo.length;
  $("save").disabled = ro || !S.edits.length;
  $("message").disabled = ro;
  const state = $("state");
  state.textContent = S.version ? S.version.state : "";
  state.className = `state ${S.version ? S.version.state : ""}`;
  $("ref").textContent = S.version ? `@${S.version.number}` : "";
  const pub = $("publish");
  pub.hidden = !S.version || S.version.state === "published";
  pub.textContent = S.version && S.version.state === "archived" ? "Publish this version again (roll back)" : "Publish";
  $("draft").hidden = !S.version || S.version.state === "draft";
}

export function render(options = {}) {
  bar();
  const focused = document.activeElement && document.activeElement.id;
  for (const [name, draw] of Object.entries(PANELS)) {
    const panel = $(`panel-${name}`);
    if (name !== S.tab) { panel.dataset.stale = "1"; continue; }
    if (name === "code" && options.keepCode && panel.dataset.stale !== "1") { draw(panel, { update: true }); continue; }
    panel.dataset.stale = "";
    draw(panel, {});
  }
  if (focused && !options.keepCode) {
    const again = document.getElementById(focused);
    if (again && again !== document.activeElement) again.focus();
  }
}

function selectTab(name, focus = false) {
  S.tab = name;
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
  const panel = $(`panel-${name}`);
  if (panel.dataset.stale !== "") { panel.dataset.stale = ""; PANELS[name](panel, {}); }
}
export { selectTab };

function setupTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => selectTab(tab.id.slice(4)));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) selectTab(tabs[(i + step + tabs.length) % tabs.length].id.slice(4), true);
    });
  });
}

export async function load() {
  const answer = await call("GET", base());
  if (!answer.ok) { status(answer.body.error || "The version could not be loaded.", true); return; }
  Object.assign(S, answer.body, { edits: [], redo: [], changed: {} });
  for (const panel of document.querySelectorAll("[role=tabpanel]")) panel.dataset.stale = "1";
  render();
  status(readOnly() ? `${S.version.ref} is ${S.version.state}: make a draft from it to edit` : "No unsaved changes");
  redrawLive();
}

async function save() {
  hideConflict();
  status("Saving…");
  const answer = await call("POST", `${base()}/save`, { edits: S.edits, message: $("message").value || null },
    { "If-Match": `"${S.version.etag}"` });
  if (answer.status === 412) {
    status(answer.body.error, true);
    showConflict(answer.body);
    return;
  }
  if (!answer.ok) {
    const where = answer.body.field ? `${answer.body.field}: ` : "";
    const problems = (answer.body.problems || []).map((p) => `${p.file}: ${p.message}`).join("; ");
    status(`Not saved: ${where}${answer.body.error}${problems ? ` (${problems})` : ""}`, true);
    return;
  }
  $("message").value = "";
  await load();
  status(`Saved as ${S.version.ref}, revision ${S.version.revision}`);
}

// After a conflict: start again from the other editor's version, with the edits I kept.
export async function rebase(edits) {
  hideConflict();
  await load();
  S.edits = edits;
  await refresh();
  if (edits.length) await save();
}

async function publishVersion() {
  if (S.edits.length) { status("Save your changes first: publishing takes the saved version.", true); return; }
  status("Checking and publishing…");
  const answer = await call("POST", `${base()}/publish`, {});
  showReport(answer.body.report, answer.ok, answer.body.error);
  if (!answer.ok) { status(`Not published: ${answer.body.error}`, true); return; }
  await load();
  status(`${S.version.ref} is published: new renders use it`);
}

function showReport(report, ok, error) {
  const el = $("report");
  el.replaceChildren(...[h("h2", { id: "report-title" }, ok ? "Published: what was checked" : "Not published"),
    error ? h("p", { class: "error" }, error) : null,
    h("ul", { class: "checks" }, ((report && report.checks) || []).map((c) =>
      h("li", { class: c.ok ? "ok" : "bad" }, c.name,
        c.problems && c.problems.length ? h("ul", {}, c.problems.map((p) =>
          h("li", {}, `${p.file || ""}${p.line ? `:${p.line}` : ""} ${p.path || ""} ${p.message}`))) : null,
        c.samples ? ` — ${c.samples.endings.length} endings × ${c.samples.locales.length} languages × ${c.samples.formats.length} formats, in ${c.seconds} s` : null,
        c.checks ? h("ul", {}, c.checks.map((k) => h("li", { class: k.passed ? "ok" : "bad" },
          `${k.description || k.name}: ${k.checked} checked, ${k.failed} failed`))) : null,
        c.failures && c.failures.length ? h("ul", {}, c.failures.slice(0, 20).map((f) =>
          h("li", { class: "bad" }, Object.values(f).filter((v) => v !== null).join(" · ")))) : null,
        c.warnings && c.warnings.length ? h("p", { class: "muted" }, `${c.warnings.length} warning(s): text cut, glyphs missing or layers off the frame in some cells (see the grid)`) : null))),
    h("button", { type: "button", class: "secondary small", onclick: () => { el.hidden = true; } }, "Close")]
    .filter((child) => child !== null));
  el.hidden = false;
}

async function newDraft() {
  const answer = await call("POST", `/dashboard/studio/api/${S.name}/drafts`, { from: S.number });
  if (!answer.ok) { status(answer.body.error, true); return; }
  window.location.assign(answer.body.url);
}

function undo() { if (S.edits.length) { S.redo.push(S.edits.pop()); refresh(); } }
function redo() { if (S.redo.length) { S.edits.push(S.redo.pop()); refresh(); } }

$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
$("save").addEventListener("click", save);
$("publish").addEventListener("click", publishVersion);
$("draft").addEventListener("click", newDraft);
document.addEventListener("keydown", (event) => {
  if (!(event.ctrlKey || event.metaKey) || event.target.closest(".cm-editor")) return;
  if (event.key === "z" && !event.shiftKey) { event.preventDefault(); undo(); }
  else if (event.key === "y" || (event.key === "z" && event.shiftKey)) { event.preventDefault(); redo(); }
  else if (event.key === "s") { event.preventDefault(); if (!$("save").disabled) save(); }
});
window.addEventListener("beforeunload", (event) => { if (S.edits.length) event.preventDefault(); });
setupTabs();
setupLive();
load();
