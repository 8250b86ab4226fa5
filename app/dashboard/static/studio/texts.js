// Texts: every string of the video (shown and spoken) and of the microsite, one locale beside
// another, with missing and too-long translations flagged.
import { S, edit, readOnly } from "./studio.js";
import { h, select } from "./dom.js";

const view = { left: "en", right: null, catalog: "all", flagged: false };

export function renderTexts(panel) {
  const texts = S.form.texts;
  if (!texts) { panel.replaceChildren(h("p", { class: "error" }, "The strings cannot be read: see the Code tab.")); return; }
  if (!view.right) view.right = texts.locales.find((l) => l !== texts.fallback) || texts.fallback;
  const rows = texts.rows.filter((r) => (view.catalog === "all" || r.catalog === view.catalog) &&
    (!view.flagged || [view.left, view.right].some((l) => flagged(r.cells[l]))));
  const count = texts.rows.reduce((n, r) => n + Object.values(r.cells).filter(flagged).length, 0);
  const redraw = () => renderTexts(panel);
  panel.replaceChildren(
    h("div", { class: "field" },
      h("label", { for: "texts-left" }, "Left"), withId(select(texts.locales, view.left, (v) => { view.left = v; redraw(); }), "texts-left"),
      h("label", { for: "texts-right" }, "Right"), withId(select(texts.locales, view.right, (v) => { view.right = v; redraw(); }), "texts-right"),
      h("label", { for: "texts-catalog" }, "Show"),
      withId(select(["all", "video", "site"], view.catalog, (v) => { view.catalog = v; redraw(); },
        { all: "video and microsite", video: "video (on screen and spoken)", site: "microsite" }), "texts-catalog"),
      h("label", { class: "inline" }, h("input", { type: "checkbox", id: "texts-flagged", checked: view.flagged,
        onchange: (e) => { view.flagged = e.target.checked; redraw(); } }), " only flagged"),
    ),
    h("p", { class: "muted" }, `${count} flagged cell${count === 1 ? "" : "s"} over all languages. Placeholders: `,
      texts.placeholders.map((p) => h("code", {}, `{${p}} `))),
    h("table", { class: "texts" },
      h("thead", {}, h("tr", {}, h("th", {}, "Key"), h("th", {}, view.left), h("th", {}, view.right))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", { class: "key" }, r.key, h("br"), h("span", { class: "muted" },
          r.catalog === "site" ? "microsite" : r.spoken && !r.used_by.length ? "spoken" : r.used_by.join("; ") || "video")),
        cell(r, view.left), cell(r, view.right))))),
  );
}

function withId(el, id) { el.id = id; return el; }
function flagged(c) { return c && (c.missing || c.too_long); }

function cell(row, locale) {
  const c = row.cells[locale] || { value: null, missing: true };
  const id = `t-${row.catalog}-${row.key}-${locale}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const area = h("textarea", { id, rows: 2, disabled: readOnly(), placeholder: c.value === null ? `(English: ${row.source})` : "",
    "aria-label": `${row.key} in ${locale}` }, c.value ?? "");
  area.value = c.value ?? "";
  area.addEventListener("change", () => {
    if (area.value === (c.value ?? "")) return;
    edit({ op: "set_string", catalog: row.catalog, key: row.key, locale, value: area.value });
  });
  return h("td", {}, area,
    c.missing ? h("span", { class: "flag missing" }, "missing: shows the English text") : null,
    c.too_long ? h("span", { class: "flag long", title: c.too_long }, `too long: ${c.too_long}`) : null);
}
