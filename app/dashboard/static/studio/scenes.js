// Scenes: the order, on or off, when each shows (picked from lists), duration, transition,
// and each layer's text, size, colour and box.
import { S, edit, readOnly, selectTab } from "./studio.js";
import { h, number, select } from "./dom.js";
import { problem } from "./theme.js";

export function renderScenes(panel) {
  const scenes = S.form.scenes;
  if (!scenes) { panel.replaceChildren(problem(S.form)); return; }
  panel.replaceChildren(h("p", { class: "muted" }, "Scenes play in this order; a scene shows when its condition holds for the bill."),
    ...scenes.map((scene, i) => sceneCard(scene, i, scenes.length)));
}

function sceneCard(scene, i, count) {
  const ro = readOnly();
  const id = (name) => `s-${scene.id}-${name}`;
  const enabled = h("input", { type: "checkbox", id: id("enabled"), checked: scene.enabled, disabled: ro,
    onchange: (e) => edit({ op: "set_scene", scene: scene.id, field: "enabled", value: e.target.checked }) });
  const limits = S.form.choices.limits;
  return h("article", { class: `scene${scene.enabled ? "" : " off"}`, "aria-labelledby": id("title") },
    h("h3", { id: id("title") }, `${i + 1}. ${scene.id}`,
      scene.shared ? h("span", { class: "state" }, "shared") : null,
      scene.poster ? h("span", { class: "state" }, "poster") : null,
      h("button", { type: "button", class: "small secondary", id: id("up"), disabled: ro || i === 0, "aria-label": `Move ${scene.id} up`,
        onclick: () => edit({ op: "move_scene", scene: scene.id, to: i - 1 }) }, "↑"),
      h("button", { type: "button", class: "small secondary", id: id("down"), disabled: ro || i === count - 1, "aria-label": `Move ${scene.id} down`,
        onclick: () => edit({ op: "move_scene", scene: scene.id, to: i + 1 }) }, "↓"),
      h("label", { class: "inline", for: id("enabled") }, enabled, " shown")),
    h("div", { class: "field" },
      h("label", { for: id("duration") }, "Duration (s)"),
      withId(number(scene.duration, { ...limits.duration, step: 0.1 }, (v) => v !== null &&
        edit({ op: "set_scene", scene: scene.id, field: "duration", value: v })), id("duration"), ro),
      h("label", { for: id("transition") }, "Transition"),
      withId(select(S.form.choices.transition, scene.transition.kind, (v) =>
        edit({ op: "set_scene", scene: scene.id, field: "transition", value: { kind: v } })), id("transition"), ro),
      h("label", { for: id("transition-s") }, "for (s)"),
      withId(number(scene.transition.duration, { ...limits.transition, step: 0.1 }, (v) => v !== null &&
        edit({ op: "set_scene", scene: scene.id, field: "transition", value: { duration: v } })), id("transition-s"), ro)),
    condition(scene, id, ro),
    layers(scene, ro));
}

function withId(el, id, disabled = false) { el.id = id; el.disabled = disabled; return el; }

function condition(scene, id, ro) {
  const when = scene.when;
  const set = (value) => edit({ op: "set_scene", scene: scene.id, field: "when", value });
  if (when.kind === "custom") {
    return h("div", { class: "custom" }, h("b", {}, "Shows when: custom, edit in code view "),
      h("code", {}, when.expression), " ",
      h("button", { type: "button", class: "small secondary", onclick: () => selectTab("code", true) }, "Open the code view"),
      ro ? null : h("button", { type: "button", class: "small secondary", onclick: () => set({ kind: "always" }) }, "Replace by: always"));
  }
  const rules = when.kind === "rules" ? when : { tone: [], status: [], segment: [], days_overdue: { min: null, max: null } };
  const choose = (name, value, on) => {
    const next = { kind: "rules", tone: [...rules.tone], status: [...rules.status], segment: [...rules.segment], days_overdue: { ...rules.days_overdue } };
    next[name] = on ? [...next[name], value] : next[name].filter((v) => v !== value);
    set(next);
  };
  const group = (name, legend) => h("fieldset", {}, h("legend", {}, legend),
    S.form.choices[name].map((value) => h("label", {},
      h("input", { type: "checkbox", id: id(`${name}-${value}`), checked: rules[name].includes(value), disabled: ro,
        onchange: (e) => choose(name, value, e.target.checked) }), value)),
    h("span", { class: "muted" }, rules[name].length ? "" : " (any)"));
  const days = (side) => withId(number(rules.days_overdue[side], { min: 0, max: 100000, step: 1 }, (v) => {
    set({ kind: "rules", tone: rules.tone, status: rules.status, segment: rules.segment,
          days_overdue: { ...rules.days_overdue, [side]: v } });
  }), id(`days-${side}`), ro);
  return h("details", { open: when.kind === "rules" },
    h("summary", {}, when.kind === "always" ? "Shows for every bill" : `Shows when: ${describe(rules)}`),
    group("tone", "Ending (tone)"), group("status", "Bill status"), group("segment", "Customer segment"),
    h("div", { class: "field" }, h("label", { for: id("days-min") }, "Days overdue from"), days("min"),
      h("label", { for: id("days-max") }, "to"), days("max")));
}

function describe(r) {
  const parts = [];
  if (r.tone.length) parts.push(`tone is ${r.tone.join(" or ")}`);
  if (r.status.length) parts.push(`status is ${r.status.join(" or ")}`);
  if (r.segment.length) parts.push(`segment is ${r.segment.join(" or ")}`);
  if (r.days_overdue.min !== null) parts.push(`at least ${r.days_overdue.min} days overdue`);
  if (r.days_overdue.max !== null) parts.push(`at most ${r.days_overdue.max} days overdue`);
  return parts.join(", ");
}

function layers(scene, ro) {
  const editable = scene.layers.filter((l) => l.editable.length);
  return h("details", {}, h("summary", {}, `Layers (${scene.layers.length})`),
    h("div", { class: "scroll" }, h("table", { class: "layers" },
      h("thead", {}, h("tr", {}, ["#", "Type", "Text", "Size", "Colour", "Box x, y, w, h"].map((t) => h("th", {}, t)))),
      h("tbody", {}, editable.map((layer) => layerRow(scene, layer, ro))))));
}

function layerRow(scene, layer, ro) {
  const id = (name) => `l-${scene.id}-${layer.index}-${name}`;
  const set = (field, value, extra = {}) => edit({ op: "set_layer", scene: scene.id, layer: layer.index, field, value, ...extra });
  const text = layer.editable.includes("text")
    ? withId(h("input", { type: "text", value: layer.text, size: 28, "aria-label": `Layer ${layer.index} text`,
        onchange: (e) => set("text", e.target.value) }), id("text"), ro) : "";
  const size = layer.editable.includes("size")
    ? withId(number(layer.size, { ...S.form.choices.limits.size, step: 1 }, (v) => v !== null && set("size", v)), id("size"), ro) : "";
  if (size) size.setAttribute("aria-label", `Layer ${layer.index} size`);
  const color = layer.editable.includes("color")
    ? colorChoice(layer.color, (v) => set("color", v), id("color"), ro) : "";
  const box = h("span", { class: "box" }, layer.box.map((v, k) => {
    const input = withId(number(v, { min: 0, max: 1, step: 0.01 }, (value) => {
      if (value === null) return;
      const next = [...layer.box];
      next[k] = value;
      set("box", next);
    }), id(`box-${k}`), ro);
    input.setAttribute("aria-label", `Layer ${layer.index} box ${"xywh"[k]}`);
    return input;
  }));
  return h("tr", {}, h("td", {}, String(layer.index)), h("td", {}, layer.type), h("td", {}, text), h("td", {}, size),
    h("td", {}, color), h("td", {}, box));
}

function colorChoice(current, onchange, id, ro) {
  const names = S.form.choices.color;
  const isHex = current && current.startsWith("#");
  const pick = withId(select([...names, "custom"], isHex ? "custom" : current, (v) => {
    if (v !== "custom") onchange(v);
    else hex.hidden = false;
  }), id, ro);
  pick.setAttribute("aria-label", "Colour");
  const hex = h("input", { type: "color", value: isHex ? current.toLowerCase() : "#ffffff", hidden: !isHex, disabled: ro,
    "aria-label": "Custom colour", onchange: (e) => onchange(e.target.value) });
  return h("span", {}, pick, hex);
}
