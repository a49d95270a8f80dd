/* Shared by the staff pages (console, supervisor, saved replies): strings, API calls
 * with the cookie session and its CSRF token, sign-in and the header, and the live
 * stream with reconnect and resume.  Exposes window.SD; each page's own script calls
 * SD.boot(onReady).  Needs common.js (window.SDCommon) loaded before it.
 *
 * All user content goes into the page with textContent, never innerHTML.
 */
(function () {
  "use strict";

  var SDCommon = window.SDCommon;
  var STRINGS = JSON.parse(document.getElementById("sd-strings").textContent);
  var locale = (navigator.language || "en").toLowerCase().indexOf("ja") === 0 ? "ja" : "en";
  var csrfToken = "";
  var localeListeners = [];

  function t(code, fields) {
    var table = STRINGS[locale] || STRINGS.en;
    return SDCommon.fill(table[code] != null ? table[code] : code, fields);
  }

  function applyStrings(root) { SDCommon.applyStrings(t, root); }

  function setLocale(value) {
    locale = STRINGS[value] ? value : "en";
    document.documentElement.lang = locale;
    var select = document.getElementById("sd-language");
    if (select) select.value = locale;
    applyStrings(document);
    localeListeners.forEach(function (listener) { listener(locale); });
  }

  function fmtTime(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    return date.toLocaleString(locale === "ja" ? "ja-JP" : "en-GB", {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  function fmtDuration(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    if (s < 60) return t("staff.duration.seconds", { s: s });
    if (s < 3600) return t("staff.duration.minutes", { m: Math.floor(s / 60), s: s % 60 });
    if (s < 86400) return t("staff.duration.hours", { h: Math.floor(s / 3600), m: Math.floor(s / 60) % 60 });
    return t("staff.duration.days", { d: Math.floor(s / 86400), h: Math.floor(s / 3600) % 24 });
  }

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }
  ApiError.prototype = Object.create(Error.prototype);

  /* fetch() a JSON API with the cookie session; resolves to the parsed body (null for
   * 204), rejects with ApiError carrying the server's code and localised message. */
  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
    return fetch(path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok) return data;
        var error = (data && data.error) || {};
        throw new ApiError(response.status, error.code || "http_" + response.status,
          error.message || t("staff.error.generic"));
      });
    }, function () {
      throw new ApiError(0, "network_error", t("staff.error.generic"));
    });
  }

  /* ---- sign-in and header ---- */

  function showLogin() {
    document.getElementById("sd-header").hidden = true;
    document.getElementById("app").hidden = true;
    document.getElementById("sd-login").hidden = false;
    document.getElementById("sd-login-email").focus();
  }

  function wireLogin(onSignedIn) {
    var form = document.getElementById("sd-login-form");
    var error = document.getElementById("sd-login-error");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.hidden = true;
      api("POST", "/api/v1/staff/login", {
        email: document.getElementById("sd-login-email").value,
        password: document.getElementById("sd-login-password").value,
      }).then(onSignedIn, function (err) {
        error.textContent = err.message;
        error.hidden = false;
      });
    });
  }

  function wireHeader(me) {
    document.getElementById("sd-whoami").textContent = t("staff.header.signed_in", { name: me.name });
    document.querySelectorAll("#sd-header [data-role=supervisor]").forEach(function (link) {
      link.hidden = !me.is_supervisor;
    });
    document.querySelectorAll("#sd-header [data-role=admin]").forEach(function (link) {
      link.hidden = (me.roles || []).indexOf("admin") < 0;
    });
    document.querySelectorAll("#sd-header [data-role=product]").forEach(function (link) {
      link.hidden = (me.roles || []).indexOf("product") < 0;
    });
    document.querySelectorAll("#sd-header nav a").forEach(function (link) {
      if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
    });
    document.getElementById("sd-language").addEventListener("change", function (event) {
      var chosen = event.target.value;
      api("PUT", "/api/v1/staff/me/settings", { locale: chosen }).then(function () {
        SD.me.locale = chosen;
        setLocale(chosen);
        document.getElementById("sd-whoami").textContent =
          t("staff.header.signed_in", { name: SD.me.name });
      });
    });
    document.getElementById("sd-logout").addEventListener("click", function () {
      api("POST", "/api/v1/staff/logout").then(function () { location.reload(); });
    });
  }

  /* Show the sign-in form until there is a session, then the page: onReady(me). */
  function boot(onReady) {
    setLocale(locale);
    var started = false;
    function start() {
      return api("GET", "/api/v1/staff/me").then(function (me) {
        if (started) return;
        started = true;
        SD.me = me;
        csrfToken = me.csrf_token || "";
        setLocale(me.locale);
        wireHeader(me);
        document.getElementById("sd-login").hidden = true;
        document.getElementById("sd-header").hidden = false;
        document.getElementById("app").hidden = false;
        onReady(me);
      });
    }
    wireLogin(start);
    start().catch(function (err) {
      if (err.status === 401) showLogin();
      else {
        document.getElementById("sd-login").hidden = false;
        var error = document.getElementById("sd-login-error");
        error.textContent = err.message;
        error.hidden = false;
      }
    });
  }

  /* ---- live stream ---- */

  /* One WebSocket for the page.  Reconnects by itself with backoff and resumes every
   * conversation it has seen from its last seq; items are de-duplicated by
   * (conversation_id, seq), so onFrame sees each item once, in order.  An `ack` for
   * this socket's own message.send is also delivered as an `item` frame first.
   * opts: onFrame(frame), onStatus(connected) (also after every reconnect: refresh
   * lists then). */
  function stream(opts) {
    var socket = null;
    var ready = false;
    var retries = 0;
    var cursors = {}; // conversation id -> last seq delivered
    var scope = null;
    var pending = [];
    var indicator = document.getElementById("sd-connection");

    function status(connected) {
      if (indicator) {
        indicator.classList.toggle("is-live", connected);
        indicator.textContent = t(connected ? "staff.connection.live" : "staff.connection.reconnecting");
      }
      if (opts.onStatus) opts.onStatus(connected);
    }

    function deliverItem(conversationId, item) {
      if ((cursors[conversationId] || 0) >= item.seq) return;
      cursors[conversationId] = item.seq;
      opts.onFrame({ type: "item", conversation_id: conversationId, item: item });
    }

    function send(frame) {
      if (ready) socket.send(JSON.stringify(frame));
      else pending.push(frame);
    }

    function resume() {
      var ids = Object.keys(cursors).slice(-1000);
      if (!ids.length) return;
      var wanted = {};
      ids.forEach(function (id) { wanted[id] = cursors[id]; });
      socket.send(JSON.stringify({ type: "resume", cursors: wanted }));
    }

    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + "/api/v1/stream");
      socket.onmessage = function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame.type === "hello") {
          ready = true;
          retries = 0;
          resume();
          if (scope) socket.send(JSON.stringify({ type: "subscribe", scope: scope }));
          pending.splice(0).forEach(send);
          status(true);
          return;
        }
        if (frame.type === "item") return deliverItem(frame.conversation_id, frame.item);
        if (frame.type === "ack" && frame.item) deliverItem(frame.item.conversation_id, frame.item);
        opts.onFrame(frame);
      };
      socket.onclose = function (event) {
        ready = false;
        status(false);
        if (event.code === 4401) { location.reload(); return; } // session ended: sign in again
        var delay = Math.min(15000, 250 * Math.pow(2, retries++)) * (0.75 + Math.random() / 2);
        setTimeout(connect, delay);
      };
    }

    connect();
    return {
      /* Receive this conversation's live items, starting after lastSeq. */
      watch: function (conversationId, lastSeq) {
        cursors[conversationId] = Math.max(cursors[conversationId] || 0, lastSeq || 0);
        var frame = { type: "resume", cursors: {} };
        frame.cursors[conversationId] = cursors[conversationId];
        send(frame);
      },
      subscribe: function (value) {
        scope = value;
        send({ type: "subscribe", scope: value });
      },
      send: send,
      lastSeq: function (conversationId) { return cursors[conversationId] || 0; },
      connected: function () { return ready; },
      drop: function () { if (socket) socket.close(); }, // test hook: it reconnects
    };
  }

  window.SD = {
    me: null,
    t: t,
    locale: function () { return locale; },
    setLocale: setLocale,
    onLocaleChange: function (listener) { localeListeners.push(listener); },
    applyStrings: applyStrings,
    el: SDCommon.el,
    fmtTime: fmtTime,
    fmtDuration: fmtDuration,
    api: api,
    ApiError: ApiError,
    boot: boot,
    stream: stream,
    newKey: SDCommon.newKey,
  };
})();
