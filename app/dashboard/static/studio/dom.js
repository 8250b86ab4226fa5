// Tiny DOM helpers: elements are built with text content, never from HTML strings.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function field(id, label, input) {
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

export function select(values, current, onchange, labels = {}) {
  const el = h("select", { onchange: () => onchange(el.value) },
    values.map((v) => h("option", { value: v, selected: v === current }, labels[v] || v)));
  return el;
}

export function number(value, { min, max, step = "any" }, onchange) {
  const el = h("input", { type: "number", value: value ?? "", min, max, step });
  el.addEventListener("change", () => {
    if (el.value === "") onchange(null);
    else if (el.checkValidity()) onchange(Number(el.value));
    else el.reportValidity();
  });
  return el;
}

export function pngUrl(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
}

export function setImage(img, base64) {
  const old = img.src;
  img.src = pngUrl(base64);
  if (old.startsWith("blob:")) URL.revokeObjectURL(old);
}

export function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
