"""The page's one inline script (copy buttons, video beacons) and its CSP hash source.

The script is code, not template data: it is the same on every page, so its hash is a
constant that the `/r/` content security policy allows, with no nonce and no template edit.
It reads its endpoint from the page (`data-events`), so it carries no token.
"""

from __future__ import annotations

import base64
import hashlib

from markupsafe import Markup

PAGE_SCRIPT = """\
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.className += " js";
  doc.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.textContent = button.getAttribute("data-copied");
      }, function () {});
    });
  });
  var video = doc.querySelector("video[data-events]");
  if (!video || !navigator.sendBeacon) { return; }
  var url = video.getAttribute("data-events");
  var sent = {};
  function send(type, name) {
    var key = type + ":" + (name || "");
    if (sent[key]) { return; }
    sent[key] = true;
    var body = new URLSearchParams();
    body.append("type", type);
    if (name) { body.append("name", name); }
    navigator.sendBeacon(url, body);
  }
  video.addEventListener("play", function () { send("video_started"); });
  video.addEventListener("timeupdate", function () {
    if (!video.duration) { return; }
    var percent = 100 * video.currentTime / video.duration;
    [25, 50, 75].forEach(function (step) {
      if (percent >= step) { send("video_progress", String(step)); }
    });
  });
  video.addEventListener("ended", function () {
    send("video_progress", "100");
    send("video_completed");
  });
}());
"""
SCRIPT_HASH_SOURCE = (
    "'sha256-" + base64.b64encode(hashlib.sha256(PAGE_SCRIPT.encode()).digest()).decode() + "'"
)
SCRIPT_MARKUP = Markup(PAGE_SCRIPT)  # noqa: S704  # our own constant code, never customer text
