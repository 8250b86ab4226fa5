// Theme: colours with a WCAG AA verdict for each text colour on what it is drawn on, and
// the logo and music, uploaded through the store's own checks.
import { S, edit, readOnly, status, api } from "./studio.js";
import { h, fileToBase64 } from "./dom.js";

const VERDICT = { "AA": "ok", "AA large only": "large", "fails AA": "fail" };

export function renderTheme(panel) {
  const form = S.form;
  if (!form.theme) { panel.replaceChildren(problem(form)); return; }
  const values = Object.fromEntries(form.theme.colors.map((c) => [c.name, c.value]));
  const label = Object.fromEntries(form.theme.colors.map((c) => [c.name, c.label]));
  panel.replaceChildren(
    h("h2", {}, "Colours"),
    ...form.theme.colors.map((c) => colorField(c)),
    h("h2", {}, "Contrast (WCAG 2.1)"),
    h("p", { class: "muted" }, "AA asks 4.5:1 for text, 3:1 for large text."),
    h("table", { id: "contrast" },
      h("thead", {}, h("tr", {}, h("th", {}, "Text"), h("th", {}, "On"), h("th", { class: "n" }, "Ratio"), h("th", {}, "Verdict"))),
      h("tbody", {}, form.theme.contrast.map((c) => h("tr", {},
        h("td", {}, label[c.foreground]),
        h("td", {}, label[c.background]),
        h("td", { class: "n" }, h("span", { class: "swatch", style: `color:${values[c.foreground]};background:${values[c.background]}` }, `${c.ratio.toFixed(2)}:1`)),
        h("td", {}, h("span", { class: `verdict ${VERDICT[c.verdict]}`, dataset: { pair: `${c.foreground}/${c.background}` } }, c.verdict)))))),
    h("h2", {}, "Logo and music"),
    h("ul", {}, form.assets.filter((a) => a.kind !== "file").map((a) => h("li", {},
      `${a.path} (${a.kind}, ${(a.size / 1024).toFixed(1)} KiB)`,
      a.role ? h("b", {}, ` · the ${a.role}`) : null,
      a.used_by.length ? h("span", { class: "muted" }, ` · used by ${a.used_by.join("; ")}`) : null))),
    upload("logo", "Upload a new logo (PNG, JPEG or WebP)", "image/png,image/jpeg,image/webp"),
    upload("music", "Upload new music (OGG, MP3, WAV, M4A or FLAC)", "audio/*"),
  );
}

export function problem(form) {
  return h("div", { class: "error", role: "alert" },
    h("p", {}, "The scene file has a problem the form cannot show:"),
    h("p", {}, h("code", {}, form.problem ? `${form.problem.field}: ${form.problem.message}` : "")),
    h("p", {}, "Fix it in the Code tab; the form comes back when the file is valid."));
}

function colorField(c) {
  const id = `color-${c.name.replace(".", "-")}`;
  const picker = h("input", { type: "color", id, value: c.value.toLowerCase(), disabled: readOnly() });
  const text = h("input", { type: "text", id: `${id}-hex`, value: c.value, size: 8, pattern: "#[0-9A-Fa-f]{6}",
    "aria-label": `${c.label} as #RRGGBB`, disabled: readOnly() });
  const set = (value) => { if (value.toUpperCase() !== c.value.toUpperCase()) edit({ op: "set_color", name: c.name, value }); };
  picker.addEventListener("change", () => set(picker.value));
  text.addEventListener("change", () => { if (text.checkValidity()) set(text.value); else text.reportValidity(); });
  return h("div", { class: "field" }, h("label", { for: id }, c.label), picker, text);
}

function upload(role, label, accept) {
  const id = `upload-${role}`;
  const input = h("input", { type: "file", id, accept, disabled: readOnly() });
  const out = h("span", { class: "muted", id: `${id}-result`, role: "status" });
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const name = file.name.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^[.-]+/, "") || role;
    const path = `scenes/assets/${name}`;
    out.textContent = "Checking…";
    const data = await fileToBase64(file);
    const answer = await api.call("POST", "/dashboard/studio/api/check-asset", { path, data });
    if (!answer.ok || !answer.body.ok) {
      out.textContent = `Refused: ${answer.body.problem || answer.body.error}`;
      status(`The ${role} was refused: ${answer.body.problem || answer.body.error}`, true);
      return;
    }
    out.textContent = `Checked: ${file.name}, ${(answer.body.size / 1024).toFixed(1)} KiB`;
    edit({ op: "upload_asset", role, path, data });
  });
  return h("div", { class: "field" }, h("label", { for: id }, label), input, out);
}
