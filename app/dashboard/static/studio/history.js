// History: every version with its author and note, the diff between two, and one click to
// publish an older version again (the rollback) or start a draft from it.
import { S, api, status, load } from "./studio.js";
import { h } from "./dom.js";

export function renderHistory(panel) {
  const numbers = S.versions.map((v) => v.number);
  const pick = (id, value) => h("select", { id }, numbers.map((n) => h("option", { value: n, selected: n === value }, `@${n}`)));
  const a = pick("diff-a", S.version.parent || numbers[numbers.length - 1]);
  const b = pick("diff-b", S.number);
  const out = h("div", { class: "diff", id: "diff" });
  panel.replaceChildren(
    h("table", { class: "history" },
      h("thead", {}, h("tr", {}, ["Version", "State", "By", "Changed (UTC)", "Note", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, S.versions.map((v) => h("tr", {},
        h("td", {}, h("a", { href: `/dashboard/studio/${S.name}/${v.number}` }, `@${v.number}`), v.parent ? h("span", { class: "muted" }, ` from @${v.parent}`) : null),
        h("td", {}, h("span", { class: `state ${v.state}` }, v.state)),
        h("td", {}, v.updated_by || v.author),
        h("td", {}, v.updated_at.slice(0, 16).replace("T", " ")),
        h("td", {}, v.message),
        h("td", {}, v.state === "archived"
          ? h("button", { type: "button", class: "small", id: `rollback-${v.number}`, onclick: () => rollback(v.number) }, `Roll back to @${v.number}`)
          : null))))),
    h("h2", {}, "Compare"),
    h("div", { class: "field" }, h("label", { for: "diff-a" }, "From"), a, h("label", { for: "diff-b" }, "to"), b,
      h("button", { type: "button", id: "diff-show", onclick: () => showDiff(a.value, b.value, out) }, "Show the changes")),
    out);
}

async function showDiff(a, b, out) {
  const answer = await api.call("GET", `/dashboard/studio/api/${S.name}/diff?a=${a}&b=${b}`);
  if (!answer.ok) { out.replaceChildren(h("p", { class: "error" }, answer.body.error)); return; }
  out.replaceChildren(answer.body.files.length ? "" : h("p", {}, "The two versions have the same files."),
    ...answer.body.files.map((f) => h("section", {}, h("h3", {}, `${f.path} (${f.change})`),
      f.binary ? h("p", { class: "muted" }, `binary file: ${f.sizes[0] ?? "–"} → ${f.sizes[1] ?? "–"} bytes`) : h("pre", {}, f.unified))));
}

async function rollback(number) {
  status(`Publishing @${number} again…`);
  const answer = await api.call("POST", `/dashboard/studio/api/${S.name}/${number}/publish`, {});
  if (!answer.ok) { status(`Not rolled back: ${answer.body.error}`, true); return; }
  await load();
  status(`Rolled back: @${number} is published again; new renders use it`);
}
