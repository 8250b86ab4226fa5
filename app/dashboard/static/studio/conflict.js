// A save that lost the race (412): each of my edits beside the other editor's text, both
// kept on the page until I choose, then saved over their version.
import { rebase } from "./studio.js";
import { h } from "./dom.js";

const show = (value) => value === null || value === undefined ? "(nothing)" : typeof value === "string" ? value : JSON.stringify(value);

export function hideConflict() { document.getElementById("conflict").hidden = true; }

export function showConflict(body) {
  const el = document.getElementById("conflict");
  const current = body.current;
  const items = body.items || [];
  const choices = items.map((item) => ({ item, keep: item.conflict ? null : "mine" }));
  const saveButton = h("button", { type: "button", id: "conflict-save", disabled: choices.some((c) => c.keep === null),
    onclick: () => rebase(choices.filter((c) => c.keep === "mine").map((c) => c.item.edit)) }, "Save with my choices");
  const refresh = () => { saveButton.disabled = choices.some((c) => c.keep === null); };
  el.replaceChildren(
    h("h2", { id: "conflict-title" }, `Someone else saved this draft: ${current.ref}, revision ${current.revision}, by ${current.updated_by}`),
    h("p", {}, "Nothing is lost: your changes and theirs are both below. Choose which to keep for each; your other changes are kept as they are."),
    ...choices.map((choice, i) => {
      const { item } = choice;
      const name = `conflict-${i}`;
      const radio = (value, label) => h("label", { class: "inline" }, h("input", { type: "radio", name, value, id: `${name}-${value}`,
        checked: choice.keep === value, onchange: () => { choice.keep = value; refresh(); } }), ` ${label} `);
      return h("div", { class: "choice", dataset: { conflict: String(item.conflict) } },
        h("h3", {}, item.label, item.conflict ? " — changed by both of you" : " — only you changed it"),
        h("div", { class: "pair" },
          h("div", {}, h("b", {}, `Theirs (${current.updated_by})`), h("pre", { class: "theirs" }, show(item.theirs))),
          h("div", {}, h("b", {}, "Yours"), h("pre", { class: "mine" }, show(item.mine)))),
        radio("mine", "Keep mine"), radio("theirs", "Keep theirs"));
    }),
    saveButton,
    h("button", { type: "button", class: "secondary", id: "conflict-theirs", onclick: () => rebase([]) }, "Drop all mine, load theirs"),
  );
  el.hidden = false;
  el.scrollIntoView({ block: "start" });
  el.querySelector("h2").setAttribute("tabindex", "-1");
  el.querySelector("h2").focus();
}
