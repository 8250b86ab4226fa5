// The studio's JSON endpoints. Every write carries X-Studio-Request (a header no form and no
// other site can send) and the session cookie (SameSite=Strict).
export async function call(method, path, body, headers = {}) {
  const options = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.headers["X-Studio-Request"] = "1";
    options.body = JSON.stringify(body || {});
  }
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch { data = { error: `answer ${response.status}` }; }
  return { status: response.status, ok: response.ok, body: data };
}
