/* The saved-reply picker: typing "/" at the start of a textarea, or after a space, opens
 * a list of saved replies matching what follows the slash; choosing one replaces
 * "/query" with the reply's text.
 *
 *   SD.attachReplyPicker(textarea, { locale: function () { return "ja"; } })
 *
 * Accessibility: the textarea keeps its own role (a multi-line text box) and points at
 * a listbox with aria-controls / aria-activedescendant / aria-autocomplete="list", so
 * focus never leaves the text; a live region announces how many replies were found.
 * Keys while the list is open: ArrowDown / ArrowUp move, Enter or Tab insert, Escape
 * closes. Enter is always preventDefault()-ed while open, so a page's Enter-to-send
 * handler that skips prevented events does not send "/query".
 *
 * Needs static/staff.js (SD.api, SD.t, SD.el) and the "replies" strings. Replies are put
 * into the page with textContent only.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var LIMIT = 8;
  var PREVIEW = 90;
  // A slash at the start or after whitespace, then the query up to the caret.
  var TRIGGER = /(^|\s)\/([^\s\/]{0,40})$/;
  var pickers = 0;

  function ensureStylesheet() {
    if (document.querySelector('link[href="/static/reply-picker.css"]')) return;
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/reply-picker.css";
    document.head.appendChild(link);
  }

  function preview(text) {
    var flat = text.replace(/\s+/g, " ").trim();
    return flat.length > PREVIEW ? flat.slice(0, PREVIEW - 1) + "…" : flat;
  }

  function attachReplyPicker(textarea, options) {
    options = options || {};
    ensureStylesheet();
    var id = "sd-rp-" + ++pickers;

    var popup = SD.el("div", "sd-rp");
    popup.hidden = true;
    var list = SD.el("ul", "sd-rp-list");
    list.id = id + "-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", SD.t("replies.picker.label"));
    var message = SD.el("p", "sd-rp-message");
    var hint = SD.el("p", "sd-rp-hint", SD.t("replies.picker.hint"));
    hint.setAttribute("aria-hidden", "true");
    popup.append(list, message, hint);
    var live = SD.el("p", "sd-visually-hidden");
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", popup);
    popup.insertAdjacentElement("afterend", live);

    textarea.setAttribute("aria-haspopup", "listbox");
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);

    var state = {
      open: false,
      start: -1, // index of the "/" being completed
      query: "",
      replies: [],
      active: -1,
      dismissed: -1, // the "/" the agent closed with Escape: stays closed until it goes
      timer: null,
      request: 0, // answers to older requests are dropped
      stale: false, // the list shown is for an earlier query; a search is under way
      chooseWhenReady: false, // Enter came before the answer: take its best match
      inserting: false,
    };

    function locale() {
      var value = options.locale ? options.locale() : SD.locale();
      return value === "ja" ? "ja" : "en";
    }

    function setActive(index) {
      state.active = index;
      Array.prototype.forEach.call(list.children, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("is-active", i === index);
      });
      if (index >= 0 && list.children[index]) {
        textarea.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      } else {
        textarea.removeAttribute("aria-activedescendant");
      }
    }

    function place() {
      // Fixed to the viewport, on the side of the textarea with more room (the console's
      // composer sits at the bottom of the window, so usually above it).
      var rect = textarea.getBoundingClientRect();
      var below = window.innerHeight - rect.bottom;
      popup.style.left = Math.max(4, rect.left) + "px";
      popup.style.width = Math.max(260, rect.width) + "px";
      if (below < 240 && rect.top > below) {
        popup.style.top = "";
        popup.style.bottom = window.innerHeight - rect.top + 4 + "px";
        popup.style.maxHeight = Math.max(120, rect.top - 12) + "px";
      } else {
        popup.style.bottom = "";
        popup.style.top = rect.bottom + 4 + "px";
        popup.style.maxHeight = Math.max(120, below - 12) + "px";
      }
    }

    function show() {
      if (!state.open) {
        state.open = true;
        popup.hidden = false;
        window.addEventListener("resize", place);
        window.addEventListener("scroll", place, true);
      }
      place();
    }

    function close() {
      clearTimeout(state.timer);
      state.request++;
      state.stale = false;
      state.chooseWhenReady = false;
      if (!state.open) return;
      state.open = false;
      state.replies = [];
      popup.hidden = true;
      list.textContent = "";
      setActive(-1);
      window.removeEventListener("resize", place);
      window.removeEventListener("scroll", place, true);
    }

    function render() {
      list.textContent = "";
      state.replies.forEach(function (reply, index) {
        var option = SD.el("li", "sd-rp-option");
        option.id = id + "-option-" + index;
        option.setAttribute("role", "option");
        var head = SD.el("span", "sd-rp-head");
        head.append(SD.el("span", "sd-rp-shortcut", "/" + reply.shortcut), SD.el("span", "sd-rp-title", reply.title));
        option.append(head, SD.el("span", "sd-rp-preview", preview(reply.body)));
        // mousedown, not click: keep the focus (and the caret) in the textarea.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(index);
        });
        list.appendChild(option);
      });
      setActive(state.replies.length ? 0 : -1);
      if (state.replies.length) {
        message.hidden = true;
        live.textContent = SD.t("replies.picker.count", { count: state.replies.length });
      } else {
        message.hidden = false;
        message.textContent = SD.t("replies.picker.none", { query: state.query });
        live.textContent = message.textContent;
      }
    }

    function search() {
      var ticket = ++state.request;
      var params = new URLSearchParams({ q: state.query, locale: locale(), limit: String(LIMIT) });
      SD.api("GET", "/api/v1/saved-replies?" + params.toString()).then(function (replies) {
        if (ticket !== state.request || !state.open) return;
        state.stale = false;
        state.replies = replies || [];
        render();
        if (state.chooseWhenReady) {
          state.chooseWhenReady = false;
          if (state.replies.length) choose(0);
          else close();
        }
      }, function () {
        if (ticket !== state.request || !state.open) return;
        state.stale = false;
        state.chooseWhenReady = false;
        state.replies = [];
        list.textContent = "";
        setActive(-1);
        message.hidden = false;
        message.textContent = SD.t("replies.picker.error");
      });
    }

    function update() {
      if (state.inserting) return;
      var caret = textarea.selectionStart;
      var match = textarea.selectionEnd === caret && TRIGGER.exec(textarea.value.slice(0, caret));
      if (!match) {
        state.dismissed = -1;
        close();
        return;
      }
      var start = caret - match[2].length - 1;
      if (start === state.dismissed) return;
      state.dismissed = -1;
      var changed = !state.open || start !== state.start || match[2] !== state.query;
      state.start = start;
      state.query = match[2];
      if (!changed) return;
      state.stale = true;
      if (!state.open) {
        show();
        list.textContent = "";
        setActive(-1);
        message.hidden = false;
        message.textContent = SD.t("replies.picker.searching");
      }
      clearTimeout(state.timer);
      state.timer = setTimeout(search, DEBOUNCE_MS);
    }

    function choose(index) {
      var reply = state.replies[index];
      if (!reply) return;
      var end = textarea.selectionStart;
      state.inserting = true;
      textarea.setRangeText(reply.body, state.start, end, "end");
      // Let the page react as to typing (typing indicator, autosize).
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      state.inserting = false;
      close();
      live.textContent = SD.t("replies.picker.inserted", { title: reply.title });
      textarea.focus();
    }

    textarea.addEventListener("input", update);
    textarea.addEventListener("click", update);
    textarea.addEventListener("blur", close);
    textarea.addEventListener("keyup", function (event) {
      if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") update();
    });
    textarea.addEventListener("keydown", function (event) {
      if (!state.open || event.isComposing || event.keyCode === 229) return; // IME first
      var count = state.replies.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (count) setActive((state.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
      } else if (event.key === "Enter" && event.shiftKey) {
        close(); // a new line, as always; "/query" stays as typed
      } else if (event.key === "Enter" || (event.key === "Tab" && !event.shiftKey)) {
        if (event.key === "Tab" && !state.stale && state.active < 0) return close(); // move on
        // Never let Enter send "/query": insert the chosen reply, the best match once
        // the search answers, or (nothing matches) just close the list.
        event.preventDefault();
        if (state.stale) state.chooseWhenReady = true;
        else if (state.active >= 0) choose(state.active);
        else {
          state.dismissed = state.start;
          close();
        }
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // not the dialog or page around it
        state.dismissed = state.start;
        close();
      }
    });

    SD.onLocaleChange(function () {
      list.setAttribute("aria-label", SD.t("replies.picker.label"));
      hint.textContent = SD.t("replies.picker.hint");
    });

    return { close: close, isOpen: function () { return state.open; } };
  }

  window.SD.attachReplyPicker = attachReplyPicker;
})();
