// Code: every file of the version in CodeMirror 6 (bundled and served by billreel), each
// validation problem shown at its file and line, edits kept like the form's (undo, save).
import { S, editFile, readOnly, fileText } from "./studio.js";
import { h } from "./dom.js";

let cm = null;        // the CodeMirror module, loaded when the tab first opens
let view = null;      // the editor
let shownPath = null; // the file in it

const LANGUAGE = { ".yaml": "yaml", ".yml": "yaml", ".j2": "html", ".html": "html", ".css": "css" };

function language(path) {
  const dot = path.slice(path.lastIndexOf("."));
  const name = LANGUAGE[dot];
  return name ? cm[name]() : [];
}

function problemsOf(path) {
  return S.problems.filter((p) => p.file === path);
}

function diagnostics(state, path) {
  return problemsOf(path).map((p) => {
    const line = state.doc.line(Math.min(Math.max(p.line || 1, 1), state.doc.lines));
    return { from: line.from, to: line.to, severity: "error", message: `${p.path ? `${p.path}: ` : ""}${p.message}` };
  });
}

function open(path, host) {
  shownPath = path;
  const text = fileText(path) ?? "";
  const state = cm.EditorState.create({
    doc: text,
    extensions: [
      cm.lineNumbers(), cm.highlightActiveLine(), cm.drawSelection(), cm.history(), cm.bracketMatching(),
      cm.indentOnInput(), cm.syntaxHighlighting(cm.defaultHighlightStyle, { fallback: true }),
      cm.keymap.of([...cm.defaultKeymap, ...cm.historyKeymap, cm.indentWithTab]),
      language(path), cm.lintGutter(),
      cm.EditorState.readOnly.of(readOnly()),
      cm.EditorView.contentAttributes.of({ "aria-label": `Contents of ${path}` }),
      cm.EditorView.updateListener.of((update) => {
        if (update.docChanged) editFile(path, update.state.doc.toString());
      }),
    ],
  });
  if (view) view.destroy();
  view = new cm.EditorView({ state, parent: host });
  showDiagnostics();
}

// The server's problems, laid on the lines they name (pushed: they come with each check).
function showDiagnostics() {
  if (view && shownPath) view.dispatch(cm.setDiagnostics(view.state, diagnostics(view.state, shownPath)));
}

export async function renderCode(panel, { update } = {}) {
  if (update && view) { problemList(panel); showDiagnostics(); return; }
  if (!cm) {
    panel.replaceChildren(h("p", {}, "Loading the code editor…"));
    cm = await import("./codemirror.js");
  }
  const paths = Object.keys(S.files).concat(Object.keys(S.changed).filter((p) => !(p in S.files) && S.changed[p]));
  const texts = paths.filter((p) => (S.changed[p] || S.files[p] || {}).text !== null).sort();
  if (!shownPath || !texts.includes(shownPath)) shownPath = texts.includes("scenes/scenes.yaml") ? "scenes/scenes.yaml" : texts[0];
  const pick = h("select", { id: "code-file" }, texts.map((p) => h("option", { value: p, selected: p === shownPath },
    `${p}${problemsOf(p).length ? ` (${problemsOf(p).length} problem${problemsOf(p).length > 1 ? "s" : ""})` : ""}`)));
  const host = h("div", { class: "cm-host", id: "code-editor" });
  pick.addEventListener("change", () => open(pick.value, host));
  panel.replaceChildren(
    h("div", { class: "code-files" }, h("label", { for: "code-file" }, "File"), pick,
      readOnly() ? h("span", { class: "muted" }, "read only: this version is not a draft") : null),
    host,
    h("h2", {}, "Problems"),
    h("ul", { class: "problems", id: "problems" }),
  );
  open(shownPath, host);
  problemList(panel);
}

function problemList(panel) {
  const list = panel.querySelector("#problems");
  if (!list) return;
  if (!S.problems.length) { list.replaceChildren(h("li", {}, "None: the version loads as a worker loads it.")); return; }
  list.replaceChildren(...S.problems.map((p) => h("li", {},
    p.file ? h("button", { type: "button", onclick: () => jump(panel, p) }, `${p.file}${p.line ? `:${p.line}` : ""}`) : "(version)",
    ` ${p.path ? `${p.path}: ` : ""}${p.message}`)));
}

function jump(panel, p) {
  const pick = panel.querySelector("#code-file");
  const host = panel.querySelector("#code-editor");
  if (p.file !== shownPath) { pick.value = p.file; open(p.file, host); }
  if (p.line) {
    const line = view.state.doc.line(Math.min(p.line, view.state.doc.lines));
    view.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
  }
  view.focus();
}
