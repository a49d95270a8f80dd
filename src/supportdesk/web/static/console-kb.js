/* The agent console (see console.js): the knowledge-base side panel.  Agents search help
 * articles (highlighted snippets), see the articles the customer was shown before asking,
 * read one, and insert it into the open chat as an article card with one click.  It also
 * draws the timeline's `article` cards (title, and a button that opens the article here).
 *
 * Server-rendered HTML (`snippet_html`, an article's `html`) is nh3-sanitised on the
 * server (knowledge/render.py, knowledge/search.py) and is inserted through DOMParser and
 * importNode; everything else goes in with textContent (SD.el).
 */
(function () {
  "use strict";

  var SD = window.SD;
  var C = window.SDConsole;
  var state = C.state;
  var $ = C.$;
  var t = C.t;
  var showError = C.showError;

  var SEARCH_DELAY_MS = 300;
  var kb = { hits: null, suggestions: [], reading: null, searchTimer: null, asked: 0 };

  /* Sanitised HTML from the server (nh3 allow-list) as nodes under `parent`. */
  function putSanitisedHtml(parent, html) {
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    Array.prototype.forEach.call(doc.body.childNodes, function (node) {
      parent.appendChild(document.importNode(node, true));
    });
  }

  function localeWord(locale) { return C.localeLabel(locale); }

  /* A conversation must be open; whether this agent may write in it is the server's
   * answer (403 conversation_read_only, 409 conversation_resolved, shown as an error). */
  function mayInsert() { return !!state.openId; }

  function insertButton(article) {
    var button = SD.el("button", "cs-kb-insert", t("console.kb.insert"));
    button.type = "button";
    button.dataset.article = String(article.id);
    button.setAttribute("aria-label", t("console.kb.insert_label", { title: article.title }));
    button.disabled = !mayInsert();
    button.addEventListener("click", function () { insertCard(article, button); });
    return button;
  }

  function openButton(article) {
    var button = SD.el("button", "cs-kb-open sd-link", article.title);
    button.type = "button";
    button.dataset.article = String(article.id);
    button.addEventListener("click", function () { openArticle(article.id); });
    return button;
  }

  function articleEntry(article, snippetHtml) {
    var li = SD.el("li", "cs-kb-hit");
    li.dataset.article = String(article.id);
    li.appendChild(openButton(article));
    li.appendChild(SD.el("span", "cs-kb-meta sd-muted",
      [localeWord(article.locale), article.category].join(" · ")));
    if (snippetHtml) {
      var snippet = SD.el("p", "cs-kb-snippet");
      putSanitisedHtml(snippet, snippetHtml);
      li.appendChild(snippet);
    }
    li.appendChild(insertButton(article));
    return li;
  }

  /* ---------------------------------------------------------------- search ---- */

  function renderHits() {
    var list = $("cs-kb-results");
    list.textContent = "";
    (kb.hits || []).forEach(function (hit) { list.appendChild(articleEntry(hit, hit.snippet_html)); });
  }

  function search() {
    var q = $("cs-kb-q").value.trim();
    var status = $("cs-kb-status");
    var asked = ++kb.asked;
    if (!q) {
      kb.hits = null;
      status.textContent = "";
      renderHits();
      return;
    }
    status.textContent = t("console.kb.searching");
    var locale = state.conv ? state.conv.locale : SD.locale();
    SD.api("GET", "/api/v1/kb/search?limit=8&locale=" + locale + "&q=" + encodeURIComponent(q))
      .then(function (hits) {
        if (asked !== kb.asked) return; // an older answer after a newer question
        kb.hits = hits;
        status.textContent = hits.length ? t("console.kb.count", { count: hits.length })
                                         : t("console.kb.none", { query: q });
        renderHits();
      }, function (err) {
        if (asked !== kb.asked) return;
        kb.hits = null;
        status.textContent = err.message;
        renderHits();
      });
  }

  function wireSearch() {
    $("cs-kb-search").addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(kb.searchTimer);
      search();
    });
    $("cs-kb-q").addEventListener("input", function () {
      clearTimeout(kb.searchTimer);
      kb.searchTimer = setTimeout(search, SEARCH_DELAY_MS);
    });
  }

  /* ---------------------------------------------------------------- suggestions ---- */

  function renderSuggestions() {
    var list = $("cs-kb-suggested");
    list.textContent = "";
    kb.suggestions.forEach(function (article) { list.appendChild(articleEntry(article, null)); });
    $("cs-kb-suggested-block").hidden = !kb.suggestions.length;
  }

  function loadSuggestions(id) {
    kb.suggestions = [];
    renderSuggestions();
    SD.api("GET", "/api/v1/conversations/" + id + "/suggestions").then(function (articles) {
      if (id !== state.openId) return;
      kb.suggestions = articles;
      renderSuggestions();
    }, function () { /* nothing was suggested that this agent may see */ });
  }

  /* ---------------------------------------------------------------- reader ---- */

  function renderReader() {
    var reader = $("cs-kb-reader");
    var article = kb.reading;
    reader.hidden = !article;
    if (!article) return;
    $("cs-kb-reader-title").textContent = article.title;
    $("cs-kb-reader-meta").textContent = [localeWord(article.locale), article.category].join(" · ");
    var body = $("cs-kb-reader-body");
    body.textContent = "";
    putSanitisedHtml(body, article.html);
    var actions = $("cs-kb-reader-actions");
    actions.textContent = "";
    actions.appendChild(insertButton(article));
  }

  function openArticle(articleId) {
    showError($("cs-kb-error"), "");
    SD.api("GET", "/api/v1/kb/articles/" + articleId).then(function (article) {
      kb.reading = article;
      renderReader();
      $("cs-kb-reader-title").focus();
    }, function (err) { showError($("cs-kb-error"), err.message); });
  }

  /* ---------------------------------------------------------------- insert ---- */

  function insertCard(article, button) {
    var id = state.openId;
    if (!id) return;
    showError($("cs-kb-error"), "");
    button.disabled = true;
    SD.api("POST", "/api/v1/conversations/" + id + "/article-cards", { article_id: article.id })
      .then(function (item) {
        if (id === state.openId) {
          C.addItem(item);
          C.markRead();
        }
        $("cs-kb-status").textContent = t("console.kb.inserted", { title: article.title });
      }, function (err) { showError($("cs-kb-error"), err.message); })
      .then(function () { button.disabled = !mayInsert(); });
  }

  /* Insert buttons follow who may write in the open conversation. */
  function refreshButtons() {
    document.querySelectorAll(".cs-kb-insert").forEach(function (button) {
      button.disabled = !mayInsert();
    });
  }

  /* ---------------------------------------------------------------- timeline card ---- */

  /* The timeline's `article` card: who shared which article, openable here. */
  function articleCardNode(item) {
    var data = item.data || {};
    var li = SD.el("li", "cs-item cs-item--card cs-item--article");
    li.dataset.seq = String(item.seq);
    li.dataset.article = String(data.article_id);
    li.appendChild(SD.el("span", "cs-system-text",
      t("console.kb.card", { name: item.author.name || "" }) + " "));
    li.appendChild(openButton({ id: data.article_id, title: data.title || "" }));
    var time = SD.el("time", "cs-time", SD.fmtTime(item.created_at));
    time.dateTime = item.created_at;
    li.appendChild(time);
    return li;
  }

  function renderAll() {
    renderHits();
    renderSuggestions();
    renderReader();
  }

  function wireKb() {
    wireSearch();
    $("cs-kb-reader-close").addEventListener("click", function () {
      kb.reading = null;
      renderReader();
      $("cs-kb-q").focus();
    });
    // Follow the open conversation: its suggestions, and whether insert buttons work.
    var open = C.openConversation;
    C.openConversation = function (id) {
      open(id);
      loadSuggestions(id);
      refreshButtons();
    };
    SD.onLocaleChange(renderAll);
  }

  Object.assign(C, { articleCardNode: articleCardNode });

  document.addEventListener("DOMContentLoaded", function () {
    // Wired before SD.boot's start (console.js also waits for DOMContentLoaded, but its
    // listener only signs in: nothing opens a conversation before the page is ready).
    wireKb();
  });
})();
