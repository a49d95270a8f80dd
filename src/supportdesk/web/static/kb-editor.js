/* The help-article editor (/supervisor/kb), for admins and supervisors: the article list
 * with drafts (filtered by text, language and status), create and edit with a live
 * preview (debounced POST /api/v1/kb/preview), and the version history.  Other agents
 * see a refusal (the API refuses their changes with 403 anyway).
 *
 * The preview's HTML is rendered by the server and sanitised there with nh3
 * (knowledge/render.py): it is inserted through DOMParser and importNode.  Everything else
 * goes into the page with textContent (SD.el).
 */
(function () {
  "use strict";

  var SD = window.SD;
  var PREVIEW_DELAY_MS = 350;
  var state = { articles: [], editing: null, previewTimer: null, previewAsked: 0 };

  function $(id) { return document.getElementById(id); }
  function t(code, fields) { return SD.t(code, fields); }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  function localeName(code) { return t(code === "ja" ? "kb.locale.ja" : "kb.locale.en"); }
  function statusName(code) { return t(code === "draft" ? "kb.status.draft" : "kb.status.published"); }

  /* Sanitised HTML from the server (nh3 allow-list) in place of `parent`'s children. */
  function putSanitisedHtml(parent, html) {
    parent.textContent = "";
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    Array.prototype.forEach.call(doc.body.childNodes, function (node) {
      parent.appendChild(document.importNode(node, true));
    });
  }

  /* ---------------------------------------------------------------- list ---- */

  function matches(article, q) {
    if (!q) return true;
    var text = [article.title, article.slug, article.category].concat(article.tags).join(" ").toLowerCase();
    return text.indexOf(q) >= 0;
  }

  function render() {
    var q = $("kb-q").value.trim().toLowerCase();
    var shown = state.articles.filter(function (article) { return matches(article, q); });
    var list = $("kb-rows");
    list.textContent = "";
    shown.forEach(function (article) {
      var li = SD.el("li");
      var button = SD.el("button", "kb-row");
      button.type = "button";
      button.dataset.article = String(article.id);
      if (state.editing && state.editing.id === article.id) button.setAttribute("aria-current", "true");
      button.appendChild(SD.el("span", "kb-row-title", article.title));
      var meta = SD.el("span", "kb-row-meta");
      var status = SD.el("span", article.status === "draft" ? "kb-draft" : null, statusName(article.status));
      meta.appendChild(status);
      meta.appendChild(document.createTextNode(
        " · " + [localeName(article.locale), article.category, article.slug].join(" · ")));
      button.appendChild(meta);
      button.addEventListener("click", function () { edit(article.id); });
      li.appendChild(button);
      list.appendChild(li);
    });
    $("kb-count").textContent = t("kb.list.count", { count: shown.length });
  }

  function load() {
    var params = new URLSearchParams({ limit: "500" });
    if ($("kb-filter-locale").value) params.set("locale", $("kb-filter-locale").value);
    if ($("kb-filter-status").value) params.set("status", $("kb-filter-status").value);
    showError($("kb-list-error"), "");
    return SD.api("GET", "/api/v1/kb/articles?" + params.toString()).then(function (articles) {
      state.articles = articles;
      render();
    }, function (err) { showError($("kb-list-error"), err.message); });
  }

  /* ---------------------------------------------------------------- editor ---- */

  function fill(article) {
    $("kb-slug").value = article ? article.slug : "";
    $("kb-locale").value = article ? article.locale : SD.locale();
    $("kb-status").value = article ? article.status : "draft";
    $("kb-title").value = article ? article.title : "";
    $("kb-category").value = article ? article.category : "";
    $("kb-tags").value = article ? article.tags.join(", ") : "";
    $("kb-body").value = article ? article.body : "";
    // The slug and language identify an article: they are chosen once, at creation.
    $("kb-slug").disabled = !!article;
    $("kb-locale").disabled = !!article;
    putSanitisedHtml($("kb-preview"), article ? article.html : "");
    showError($("kb-form-error"), "");
    showError($("kb-preview-error"), "");
  }

  function heading() {
    $("kb-editor-heading").textContent = state.editing
      ? t("kb.form.edit", { title: state.editing.title, version: state.editing.version })
      : t("kb.form.new");
  }

  function openEditor(article) {
    state.editing = article;
    fill(article);
    heading();
    $("kb-editor").hidden = false;
    $("kb-versions-block").hidden = !article;
    $("kb-versions").textContent = "";
    render();
    $("kb-editor-heading").focus();
    if (article) loadVersions(article.id);
  }

  function edit(id) {
    SD.api("GET", "/api/v1/kb/articles/" + id).then(openEditor, function (err) {
      showError($("kb-list-error"), err.message);
    });
  }

  function versionLine(version) {
    var changed = version.changed.map(function (field) {
      var code = "kb.field." + field;
      return t(code) === code ? field : t(code);
    }).join(", ");
    return t(version.source === "import" ? "kb.versions.line_import" : "kb.versions.line", {
      version: version.version,
      time: SD.fmtTime(version.created_at),
      who: version.changed_by == null ? "" : t("kb.versions.agent", { id: version.changed_by }),
      changed: changed,
      status: statusName(version.status),
    });
  }

  function loadVersions(id) {
    SD.api("GET", "/api/v1/kb/articles/" + id + "/versions").then(function (versions) {
      if (!state.editing || state.editing.id !== id) return;
      var list = $("kb-versions");
      list.textContent = "";
      versions.forEach(function (version) {
        var li = SD.el("li", null, versionLine(version));
        li.dataset.version = String(version.version);
        list.appendChild(li);
      });
    }, function () { /* the editor works without its history */ });
  }

  function preview() {
    var asked = ++state.previewAsked;
    SD.api("POST", "/api/v1/kb/preview", { body: $("kb-body").value }).then(function (result) {
      if (asked !== state.previewAsked) return; // a newer keystroke asked again
      showError($("kb-preview-error"), "");
      putSanitisedHtml($("kb-preview"), result.html);
    }, function (err) {
      if (asked === state.previewAsked) showError($("kb-preview-error"), err.message);
    });
  }

  function save() {
    var button = $("kb-save");
    var error = $("kb-form-error");
    showError(error, "");
    var body = {
      slug: $("kb-slug").value.trim(),
      locale: $("kb-locale").value,
      title: $("kb-title").value,
      body: $("kb-body").value,
      category: $("kb-category").value,
      tags: $("kb-tags").value.split(/[,、]/).map(function (tag) { return tag.trim(); })
        .filter(Boolean),
      status: $("kb-status").value,
    };
    var editing = state.editing;
    button.disabled = true;
    var request = editing
      ? SD.api("PUT", "/api/v1/kb/articles/" + editing.id, body)
      : SD.api("POST", "/api/v1/kb/articles", body);
    request.then(function (article) {
      $("kb-notice").textContent = t("kb.saved", { title: article.title, version: article.version });
      state.editing = article;
      heading();
      $("kb-slug").disabled = true;
      $("kb-locale").disabled = true;
      $("kb-versions-block").hidden = false;
      loadVersions(article.id);
      return load();
    }, function (err) { showError(error, err.message); }).then(function () {
      button.disabled = false;
    });
  }

  function wire() {
    $("kb-filter").addEventListener("submit", function (event) { event.preventDefault(); render(); });
    $("kb-q").addEventListener("input", render);
    $("kb-filter-locale").addEventListener("change", load);
    $("kb-filter-status").addEventListener("change", load);
    $("kb-new").addEventListener("click", function () { openEditor(null); });
    $("kb-cancel").addEventListener("click", function () {
      state.editing = null;
      $("kb-editor").hidden = true;
      render();
      $("kb-new").focus();
    });
    $("kb-form").addEventListener("submit", function (event) {
      event.preventDefault();
      save();
    });
    $("kb-body").addEventListener("input", function () {
      clearTimeout(state.previewTimer);
      state.previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
    });
    SD.onLocaleChange(function () {
      render();
      if (!$("kb-editor").hidden) heading();
      if (state.editing) loadVersions(state.editing.id);
    });
  }

  SD.boot(function (me) {
    var editor = me.is_supervisor || (me.roles || []).indexOf("admin") >= 0;
    if (!editor) {
      $("kb-refused").hidden = false;
      return;
    }
    $("kb-manage").hidden = false;
    wire();
    load();
  });
})();
