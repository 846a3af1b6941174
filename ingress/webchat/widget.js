/* PyTake webchat widget (plain JS, no build step). API: ingress/webchat/routes.py.
   <script src="https://pytake.example/webchat/widget.js" data-key="wc_…" async></script> */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[data-key][src*="/webchat/widget.js"]');
  var KEY = script && script.getAttribute("data-key");
  if (!KEY || window.__pytakeWebchat) return;
  window.__pytakeWebchat = true;
  var API = script.src.replace(/widget\.js(\?.*)?$/, "") + encodeURIComponent(KEY);
  var STORE = "pytake-webchat:" + KEY;
  var saved = load();
  var config = { title: "Chat with us", greeting: "", color: "#2563eb" };
  var messages = {}; // id -> message, as the server last described it
  var pending = saved.pending || []; // {cid, text, payload, failed}
  var convs = {};
  var open = false, unread = 0, lastRead = 0, lastDelivered = 0, streamAbort, streamDelay = 1000, pollTimer;

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; }
  }
  function save() {
    saved.pending = pending.filter(function (p) { return !p.failed; });
    try { localStorage.setItem(STORE, JSON.stringify(saved)); } catch (e) { /* memory only */ }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  // ---- HTTP
  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (saved.token) headers.Authorization = "Bearer " + saved.token;
    return fetch(API + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data, retryAfter: Number(r.headers.get("Retry-After")) || 0 };
      });
    });
  }

  function session() {
    var body = {}, vouch = script.getAttribute("data-identity-token"); // signed by the site
    if (vouch) body.identity_token = vouch;
    if (saved.visitorId && saved.token) body.visitor_id = saved.visitorId;
    return api("POST", "/sessions", body).then(function (r) {
      if (r.status === 401 && saved.token) { // expired or revoked: start afresh
        saved.token = null; saved.visitorId = null; saved.cursor = null; save();
        return session();
      }
      if (r.status !== 200) throw new Error((r.data.error || {}).message || "chat unavailable");
      if (r.data.visitor_id !== saved.visitorId) messages = {}; // not this visitor's history
      saved.token = r.data.visitor_token; saved.visitorId = r.data.visitor_id; save();
      config = r.data.config || config;
      if (r.data.conversation_id) convs[r.data.conversation_id] = true;
      return r.data;
    });
  }

  function loadHistory() {
    return api("GET", "/messages").then(function (r) {
      if (r.status === 401) return session().then(loadHistory);
      if (r.status !== 200) throw new Error("could not load the conversation");
      r.data.messages.forEach(upsert);
      saved.cursor = r.data.cursor; save();
      render();
    });
  }

  // ---- live: SSE over fetch (EventSource cannot send the token header)
  function stream() {
    if (streamAbort) streamAbort.abort();
    if (!window.ReadableStream || !window.AbortController) return poll();
    var ctl = new AbortController();
    streamAbort = ctl;
    var headers = { Authorization: "Bearer " + saved.token };
    if (saved.cursor) headers["Last-Event-ID"] = saved.cursor;
    fetch(API + "/events", { headers: headers, signal: ctl.signal, credentials: "omit" }).then(function (r) {
      if (r.status === 401) return session().then(function () { streamDelay = 1000; });
      if (r.status !== 200 || !r.body) throw new Error("stream refused: " + r.status);
      var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
          var blocks = buffer.split("\n\n");
          buffer = blocks.pop();
          blocks.forEach(dispatch);
          return pump();
        });
      }
      return pump();
    }).catch(function () {}).then(function () { // ended or failed: reconnect from the cursor
      if (streamAbort !== ctl || ctl.signal.aborted) return;
      setTimeout(function () { if (streamAbort === ctl) stream(); }, streamDelay);
      streamDelay = Math.min(streamDelay * 2, 30000);
    });
  }

  function dispatch(block) {
    var id = null, data = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("id:") === 0) id = line.slice(3).trim();
      else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
    });
    if (data) {
      var event = JSON.parse(data);
      if (event.type === "message") upsert(event.message);
      else if (event.type === "ready") event.conversation_ids.forEach(function (c) { convs[c] = true; });
      else if (event.type === "reset") { saved.cursor = null; save(); loadHistory().then(stream); return; }
      streamDelay = 1000;
      render();
    }
    if (id !== null) { saved.cursor = id; save(); }
  }

  function poll() { // browsers without streaming fetch: ask for changes every few seconds
    clearTimeout(pollTimer);
    var path = "/messages" + (saved.cursor ? "?after=" + encodeURIComponent(saved.cursor) : "");
    api("GET", path).then(function (r) {
      if (r.status === 200) {
        r.data.messages.forEach(upsert);
        saved.cursor = r.data.cursor; save(); render();
      } else if (r.status === 410) { saved.cursor = null; return loadHistory(); }
      else if (r.status === 401) return session();
    }).catch(function () {}).then(function () { pollTimer = setTimeout(poll, 4000); });
  }

  // ---- sending: retries reuse the client_message_id, so nothing is stored twice
  function send(text, payload) {
    text = (text || "").trim();
    if (!text) return;
    var p = { cid: uuid(), text: text, payload: payload || null };
    pending.push(p); save(); render();
    deliver(p, 1000);
  }

  function deliver(p, delay) {
    p.failed = false; render();
    var body = { client_message_id: p.cid, text: p.text, page_url: location.href };
    if (p.payload) body.payload = p.payload;
    api("POST", "/messages", body).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        pending = pending.filter(function (q) { return q !== p; }); save();
        var fresh = !convs[r.data.conversation_id]; // a new conversation: follow it too
        upsert(r.data.message); render();
        if (fresh) stream();
      } else if (r.status === 401) {
        session().then(function () { deliver(p, delay); }, function () { retry(p, delay); });
      } else if (r.status === 429 || r.status >= 500) {
        retry(p, Math.max(delay, r.retryAfter * 1000));
      } else {
        p.failed = true; p.error = (r.data.error || {}).message; save(); render();
      }
    }, function () { retry(p, delay); });
  }

  function retry(p, delay) {
    setTimeout(function () { deliver(p, Math.min(delay * 2, 30000)); }, delay);
  }

  // ---- receipts
  var receiptTimer = null;
  function receipts() {
    clearTimeout(receiptTimer);
    receiptTimer = setTimeout(function () {
      var newest = 0;
      Object.keys(messages).forEach(function (id) {
        if (messages[id].direction === "outbound") newest = Math.max(newest, Number(id));
      });
      var visible = open && document.visibilityState === "visible";
      if (visible && newest > lastRead) {
        lastRead = lastDelivered = newest; unread = 0; render();
        api("POST", "/read", { up_to_message_id: newest }).catch(function () { lastRead = 0; });
      } else if (!visible && newest > lastDelivered) {
        lastDelivered = newest;
        api("POST", "/read", { up_to_message_id: newest, status: "delivered" }).catch(function () {});
      }
    }, 300);
  }
  document.addEventListener("visibilitychange", receipts);

  function upsert(m) {
    if (!m || !m.id) return;
    var known = messages[m.id];
    messages[m.id] = m;
    convs[m.conversation_id] = true;
    if (!known && m.direction === "outbound" && m.status !== "read" && !(open && document.visibilityState === "visible")) unread++;
    if (m.direction === "outbound") receipts();
  }

  // ---- the UI, in a shadow root so the site's CSS stays out
  var host = document.createElement("div");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,sans-serif}" +
    ".fab{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;color:#fff;cursor:pointer;" +
    "box-shadow:0 4px 14px #0004;font-size:26px;z-index:2147483000}" +
    ".badge{position:absolute;top:-4px;right:-4px;background:#dc2626;color:#fff;border-radius:10px;font-size:12px;padding:1px 6px}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);height:520px;max-height:calc(100vh - 120px);" +
    "background:#fff;border-radius:12px;box-shadow:0 8px 30px #0004;display:none;flex-direction:column;overflow:hidden;z-index:2147483000}" +
    ".panel.open{display:flex}.head{color:#fff;padding:14px 16px;font-weight:600;font-size:16px;display:flex;justify-content:space-between}" +
    ".head button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}" +
    ".list{flex:1;overflow-y:auto;padding:12px;background:#f8fafc;font-size:14px}" +
    ".row{display:flex;margin:6px 0}.row.me{justify-content:flex-end}" +
    ".bubble{max-width:78%;padding:8px 12px;border-radius:14px;background:#e2e8f0;color:#0f172a;white-space:pre-wrap;word-wrap:break-word}" +
    ".me .bubble{color:#fff}.who{font-size:11px;color:#64748b;margin-bottom:2px}.meta{font-size:11px;opacity:.8;text-align:right}" +
    ".bubble img{max-width:100%;border-radius:8px;display:block;margin-top:4px}" +
    ".btns button{display:block;width:100%;margin-top:6px;padding:6px;border-radius:8px;border:1px solid #cbd5e1;background:#fff;cursor:pointer}" +
    ".failed{cursor:pointer;color:#fecaca}form{display:flex;border-top:1px solid #e2e8f0}" +
    "textarea{flex:1;border:0;padding:12px;font-size:14px;resize:none;height:48px;outline:none}" +
    "form button{border:0;background:none;padding:0 16px;font-weight:600;cursor:pointer}";
  root.innerHTML = "<style>" + css + "</style>" +
    '<div class="panel" role="dialog" aria-label="Chat"><div class="head"><span class="title"></span>' +
    '<button type="button" class="close" aria-label="Close">×</button></div><div class="list" aria-live="polite"></div>' +
    '<form><textarea placeholder="Write a message…" aria-label="Message" maxlength="4096"></textarea>' +
    '<button type="submit">Send</button></form></div>' +
    '<button type="button" class="fab" aria-label="Open chat">💬<span class="badge" hidden></span></button>';
  var $ = function (s) { return root.querySelector(s); };
  var panel = $(".panel"), list = $(".list"), input = $("textarea"), fab = $(".fab"), badge = $(".badge");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text; // never innerHTML: texts come from people
    return e;
  }
  function safeUrl(u) { return /^https?:\/\//i.test(u || "") ? u : null; }

  function bubble(mine, name, text, extra) {
    var row = el("div", "row" + (mine ? " me" : "")), b = el("div", "bubble");
    if (mine) b.style.background = config.color;
    if (!mine && name) b.appendChild(el("div", "who", name));
    if (text) b.appendChild(document.createTextNode(text));
    if (extra) extra(b);
    row.appendChild(b); list.appendChild(row);
    return b;
  }

  function render() {
    $(".title").textContent = config.title;
    $(".head").style.background = config.color; fab.style.background = config.color;
    badge.hidden = !unread; badge.textContent = unread;
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.textContent = "";
    if (config.greeting) bubble(false, config.title, config.greeting);
    Object.keys(messages).map(Number).sort(function (a, b) { return a - b; }).forEach(function (id) {
      var m = messages[id], mine = m.direction === "inbound";
      bubble(mine, m.sender_name, m.text, function (b) {
        (m.attachments || []).forEach(function (a) {
          var url = safeUrl(a.url);
          if (!url) return;
          if (a.kind === "image") { var img = el("img"); img.src = url; img.alt = a.filename || ""; b.appendChild(img); }
          else { var link = el("a", null, a.filename || url); link.href = url; link.target = "_blank"; link.rel = "noopener"; b.appendChild(link); }
        });
        if (m.buttons && m.buttons.length) {
          var box = el("div", "btns");
          m.buttons.forEach(function (btn) {
            var x = el("button", null, btn.title);
            x.type = "button";
            x.onclick = function () {
              if (btn.url && safeUrl(btn.url)) window.open(btn.url, "_blank", "noopener");
              else send(btn.title, btn.id);
            };
            box.appendChild(x);
          });
          b.appendChild(box);
        }
        if (mine) b.appendChild(el("div", "meta", "✓"));
      });
    });
    pending.forEach(function (p) {
      bubble(true, null, p.text, function (b) {
        var meta = el("div", "meta" + (p.failed ? " failed" : ""), p.failed ? "Not sent: tap to retry" : "Sending…");
        if (p.failed) meta.onclick = function () { deliver(p, 1000); };
        b.appendChild(meta);
      });
    });
    if (atBottom || open) list.scrollTop = list.scrollHeight;
  }

  function toggle(to) {
    open = to; panel.classList.toggle("open", open);
    if (open) { unread = 0; input.focus(); receipts(); }
    render();
  }
  fab.onclick = function () { toggle(!open); };
  $(".close").onclick = function () { toggle(false); };
  $("form").onsubmit = function (e) { e.preventDefault(); send(input.value); input.value = ""; };
  input.onkeydown = function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(input.value); input.value = ""; }
  };

  function boot(delay) {
    session().then(loadHistory).then(function () {
      stream();
      pending.forEach(function (p) { deliver(p, 1000); }); // what a reload interrupted
    }).catch(function () { setTimeout(function () { boot(Math.min(delay * 2, 60000)); }, delay); });
  }
  function start() {
    (document.body || document.documentElement).appendChild(host);
    render();
    boot(5000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
