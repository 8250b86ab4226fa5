"""The page's inline scripts and their CSP hash sources: the page script (copy buttons, video
beacons) on every page, and the player script on pages with a video's timeline.

The scripts are code, not template data: each is the same on every page, so its hash is a
constant that the `/r/` content security policy allows, with no nonce and no template edit.
They read what they need from the page (`data-events`, `data-seek`, `data-start`), so they
carry no token. The player keeps its resume position in the page's own storage under an
opaque key (`data-resume`), never in a cookie.
"""

from __future__ import annotations

import base64
import hashlib

from markupsafe import Markup

# hls.js (tools/hlsjs), served by the service; loaded only for a streamed video in a
# browser that cannot play HLS itself.
HLS_JS_URL = "/assets/hls/hls.light.min.js"
# How long a streamed video may wait for its next picture before the page offers a retry:
# longer than a scene takes to code on a busy worker plus the playlist's blocking wait.
STALL_MS = 12_000

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
    var length = Number(video.getAttribute("data-duration")) || video.duration;
    if (!length || length === Infinity) { return; }
    var percent = 100 * video.currentTime / length;
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
PLAYER_SCRIPT = """\
(function () {
  "use strict";
  var doc = document;
  var box = doc.querySelector("[data-player]");
  var video = box && box.querySelector("video");
  if (!video) { return; }
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var wanted = -1;
  function reach() {
    var ranges = video.seekable;
    return ranges && ranges.length ? ranges.end(ranges.length - 1) : 0;
  }
  function seekTo(at) {
    if (at <= reach()) { wanted = -1; video.currentTime = at; } else { wanted = at; }
  }
  video.addEventListener("durationchange", function () {
    if (wanted >= 0 && wanted <= reach()) { seekTo(wanted); }
  });
  var stream = video.getAttribute("data-stream");
  var retry = box.querySelector("[data-retry]");
  var hls = null;
  function stalled() {
    if (hls) { hls.destroy(); hls = null; }
    video.removeAttribute("src");
    video.load();
    if (retry) { retry.parentNode.hidden = false; }
  }
  function play() {
    var playing = video.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
  }
  // A tap on play whose "play" event is not dispatched yet: attaching a source is a new
  // load, which drops that event, so the tap is read off the element before it.
  function tapped() { if (!video.paused) { asked = true; } }
  function attach(start) {
    if (retry) { retry.parentNode.hidden = true; }
    var url = new URL(stream, window.location.href).href;
    var apple = /Apple/.test(navigator.vendor || "");
    if ((apple || !window.MediaSource) && video.canPlayType("application/vnd.apple.mpegurl")) {
      tapped();
      video.src = url;
      video.addEventListener("error", stalled, {once: true});
      if (start || asked) { play(); }
      return;
    }
    var go = function () {
      hls = new window.Hls({enableWorker: false, startPosition: 0, lowLatencyMode: true,
        manifestLoadPolicy: {default: {maxTimeToFirstByteMs: 12000, maxLoadTimeMs: 20000,
          timeoutRetry: {maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0},
          errorRetry: {maxNumRetry: 1, retryDelayMs: 1000, maxRetryDelayMs: 1000}}},
        playlistLoadPolicy: {default: {maxTimeToFirstByteMs: 12000, maxLoadTimeMs: 20000,
          timeoutRetry: {maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0},
          errorRetry: {maxNumRetry: 1, retryDelayMs: 1000, maxRetryDelayMs: 1000}}}});
      hls.on(window.Hls.Events.ERROR, function (name, data) { if (data.fatal) { stalled(); } });
      // A tap on play before hls.js was there is lost when it attaches: honour it now.
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () { if (asked) { play(); } });
      hls.loadSource(url);
      tapped();
      hls.attachMedia(video);
      if (start) { play(); }
    };
    if (window.Hls) { go(); return; }
    var script = doc.createElement("script");
    script.src = "HLS_JS_URL";
    script.onload = go;
    script.onerror = stalled;
    doc.head.appendChild(script);
  }
  var asked = false;
  video.addEventListener("play", function () { asked = true; });
  video.addEventListener("playing", function () { asked = false; });
  if (stream) {
    each(video.querySelectorAll("source"), function (source) { source.remove(); });
    attach(false);
    if (retry) { retry.addEventListener("click", function () { attach(true); }); }
    // A stream that stops growing (its worker died) waits without an error: playing with
    // no new picture for STALL_MS, the page shows the poster and the retry again.
    var last = -1;
    var still = 0;
    setInterval(function () {
      if (video.paused || video.ended || !video.currentSrc) { still = 0; return; }
      if (video.currentTime !== last) { last = video.currentTime; still = 0; return; }
      still += 1000;
      if (still >= STALL_MS) { still = 0; stalled(); }
    }, 1000);
  }
  each(video.querySelectorAll("track[kind=captions]"), function (el) {
    el.track.mode = el.default ? "showing" : "hidden";
  });
  var speed = doc.querySelector("select[data-speed]");
  if (speed) {
    speed.parentNode.hidden = false;
    speed.addEventListener("change", function () { video.playbackRate = Number(speed.value); });
  }
  var key = "billreel-resume-" + box.getAttribute("data-resume");
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; }
  var pending = 0;
  try { pending = Number(store && store.getItem(key)) || 0; } catch (e) { pending = 0; }
  var kept = -1;
  function keep() {
    var at = video.ended ? 0 : Math.floor(video.currentTime);
    if (!store || at === kept) { return; }
    kept = at;
    try { if (at > 0) { store.setItem(key, String(at)); } else { store.removeItem(key); } }
    catch (e) { store = null; }
  }
  video.addEventListener("loadedmetadata", function () {
    var length = Number(video.getAttribute("data-duration")) || video.duration;
    if (pending > 0 && pending < length - 1) { seekTo(pending); }
    pending = 0;
  });
  var chapters = doc.querySelectorAll(".chapters a[data-seek]");
  var ctas = box.querySelectorAll("[data-start]");
  function update() {
    var now = video.currentTime;
    each(ctas, function (cta) {
      var on = now >= Number(cta.getAttribute("data-start")) &&
        now < Number(cta.getAttribute("data-end"));
      if (on || !cta.contains(doc.activeElement)) { cta.hidden = !on; }
    });
    var current = null;
    each(chapters, function (link) {
      if (now >= Number(link.getAttribute("data-seek"))) { current = link; }
    });
    each(chapters, function (link) {
      if (link === current) { link.setAttribute("aria-current", "time"); }
      else { link.removeAttribute("aria-current"); }
    });
  }
  ["timeupdate", "seeked", "ended"].forEach(function (name) {
    video.addEventListener(name, function () { update(); keep(); });
  });
  box.addEventListener("focusout", function () { setTimeout(update, 0); });
  video.addEventListener("pause", keep);
  window.addEventListener("pagehide", keep);
  each(doc.querySelectorAll("a[data-seek]"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      pending = 0;
      seekTo(Number(link.getAttribute("data-seek")));
      box.scrollIntoView({block: "nearest"});
      play();
    });
  });
}());
"""


PLAYER_SCRIPT = PLAYER_SCRIPT.replace("HLS_JS_URL", HLS_JS_URL).replace("STALL_MS", str(STALL_MS))


def hash_source(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


SCRIPT_HASH_SOURCE = hash_source(PAGE_SCRIPT)
PLAYER_HASH_SOURCE = hash_source(PLAYER_SCRIPT)
# The scripts of earlier releases, inline in the pages they made: a page is made once and
# served for its link's whole life, so the policy still lets them run. When a script above
# changes, its previous hash goes here.
RETIRED_HASH_SOURCES = (
    "'sha256-KV+a53KiT7TCZJLwbE1QhoZZVul4Zz9t/+mN9M7zHnc='",  # page, before the player
    "'sha256-4XEk0Wz/uzKboRP2IdlSjfr5zGfNeKfcnGPMYX2SCr8='",  # player: chapters, CTAs
    "'sha256-h5YAn3bln93IYAhQzwMsDgunAr+ucOynBO7ALQ/c/gg='",  # player: first HLS
    "'sha256-gFHM3Gsx1YTVNsv8hbFQbCuC2REEjT0cNkgTxvQZ/SU='",  # player: stall and retry
    "'sha256-oSktbNqA9OCWI47eQ5etReH0M3nJTHk6cbsDZJOe6AM='",  # player: a tap, by its event
)
SCRIPT_MARKUP = Markup(PAGE_SCRIPT)  # noqa: S704  # our own constant code, never customer text
PLAYER_MARKUP = Markup(PLAYER_SCRIPT)  # noqa: S704  # the same
