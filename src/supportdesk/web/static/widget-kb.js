/* The customer widget (see widget.js): help articles.
 *
 * - Suggestions while typing: 250 ms after the customer stops typing in the ask form,
 *   GET /kb/search (the customer's language first, as the API orders the hits) and the
 *   top articles are listed under the question with their highlighted snippets.
 * - The article view: title, body, "Was this helpful?" (one vote), and when it was
 *   opened from the ask form, "This solved my problem" (a deflection: the ask flow ends,
 *   no conversation is created) or "Ask anyway" (the question is sent, with the ids of
 *   the suggestions shown as suggested_article_ids, see widget.js).  Every opening
 *   counts one view.
 * - The article card an agent sends into the chat: its title opens the article.
 *
 * Only server-sanitised HTML (snippet_html, html) goes in as markup, see trustedHtml();
 * everything else with textContent.
 */
(function () {
  "use strict";

  var W = window.SDWidget;
  var $ = W.$;
  var el = W.el;
  var text = W.text;
  var api = W.api;
  var showError = W.showError;

  var DEBOUNCE_MS = 250;
  var LIMIT = 5;
  var QUERY_MAX = 200; // the API refuses longer queries (kb_query_too_long)
  var DEFLECTION_QUERY_MAX = 500;

  var searchTimer = null;
  var searchSeq = 0; // a late answer to an older query is dropped
  var lastQuery = "";
  var shownIds = []; // the suggestions on screen, in order
  var opened = null; // { id, from: "ask" | "chat", opener: the button to focus on return }
  var voted = {}; // article id -> true: one vote per article (the API keeps one anyway)

  function customerLocale() { return document.documentElement.lang === "ja" ? "ja" : "en"; }

  /* The API's HTML for articles and snippets, already sanitised on the server (nh3 with
   * an allow-list: no scripts, no event handlers, links http/https/mailto only), parsed
   * by an inert DOMParser and imported.  Never call this with anything else. */
  function trustedHtml(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fragment = document.createDocumentFragment();
    Array.prototype.slice.call(doc.body.childNodes).forEach(function (node) {
      fragment.appendChild(document.importNode(node, true));
    });
    return fragment;
  }

  function collapse(value) { return value.split(/\s+/).join(" ").trim(); }

  // ---- suggestions while typing --------------------------------------------------

  $("ask-body").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, DEBOUNCE_MS);
  });

  function search() {
    var query = collapse($("ask-body").value).slice(0, QUERY_MAX);
    if (query === lastQuery) return;
    lastQuery = query;
    var seq = ++searchSeq;
    if (!query) return showSuggestions([], "");
    var path = "/kb/search?limit=" + LIMIT + "&locale=" + customerLocale() +
               "&q=" + encodeURIComponent(query);
    api("GET", path).then(function (hits) {
      if (seq === searchSeq) showSuggestions(hits, query);
    }, function () {
      // Suggestions are a help, not a step: a failed search leaves the form as it is.
      if (seq === searchSeq) showSuggestions([], query);
    });
  }

  function showSuggestions(hits, query) {
    var list = $("kb-list");
    list.replaceChildren();
    list.dataset.query = query; // the question these answer (tests wait for it)
    shownIds = hits.map(function (hit) { return hit.id; });
    hits.forEach(function (hit) { list.appendChild(suggestion(hit)); });
    $("kb-suggestions").hidden = hits.length === 0;
    var status = "";
    if (hits.length) {
      status = text(hits.length === 1 ? "kb.found_one" : "kb.found", { n: hits.length });
    }
    if ($("kb-status").textContent !== status) $("kb-status").textContent = status;
  }

  function suggestion(hit) {
    var li = el("li", "sd-kb-item");
    li.lang = hit.locale;
    var button = el("button", "sd-kb-open", hit.title);
    button.type = "button";
    button.dataset.articleId = String(hit.id);
    var snippet = el("p", "sd-kb-snippet");
    snippet.id = "kb-snippet-" + hit.id;
    snippet.appendChild(trustedHtml(hit.snippet_html));
    button.setAttribute("aria-describedby", snippet.id);
    button.addEventListener("click", function () { openArticle(hit.id, "ask", button); });
    li.appendChild(button);
    if (hit.locale !== customerLocale()) {
      // The fallback language: say so, in the customer's language.
      var badge = el("span", "sd-badge sd-kb-lang", text("kb.lang." + hit.locale));
      badge.lang = customerLocale();
      li.appendChild(badge);
    }
    li.appendChild(snippet);
    return li;
  }

  /* The ids of the suggestions on screen (POST /conversations keeps them for the agent). */
  function suggestedIds() { return shownIds.slice(); }

  /* The question was sent or the flow ended: no suggestions, and no late answer. */
  function reset() {
    clearTimeout(searchTimer);
    searchSeq += 1;
    lastQuery = "";
    showSuggestions([], "");
  }

  // ---- the article view --------------------------------------------------------

  function openArticle(id, from, opener) {
    opened = { id: id, from: from, opener: opener || null };
    $("kb-back-text").textContent = text(from === "chat" ? "kb.back_chat" : "kb.back_ask");
    $("kb-article").hidden = true;
    $("kb-feedback").hidden = true;
    $("kb-resolve").hidden = true;
    $("kb-error").hidden = true;
    $("kb-loading").hidden = false;
    W.show("article");
    $("kb-back").focus();
    api("GET", "/kb/articles/" + id)
      .then(function (article) {
        if (!opened || opened.id !== id) return;
        renderArticle(article);
        // Counted once it is on screen; a lost count must not disturb the reader.
        api("POST", "/kb/articles/" + id + "/view").catch(function () {});
      })
      .catch(function (error) {
        if (!opened || opened.id !== id) return;
        showError($("kb-error"), error);
      })
      .finally(function () { $("kb-loading").hidden = true; });
  }

  function renderArticle(article) {
    var body = $("kb-body");
    $("kb-article").lang = article.locale;
    $("kb-title").textContent = article.title;
    body.replaceChildren(trustedHtml(article.html));
    // Links leave the widget's small frame for a tab of their own.
    body.querySelectorAll("a[href]").forEach(function (link) {
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
    });
    $("kb-article").hidden = false;
    $("kb-feedback").hidden = false;
    $("kb-vote").hidden = Boolean(voted[article.id]);
    $("kb-vote-status").textContent = voted[article.id] ? text("kb.helpful.thanks") : "";
    $("kb-resolve").hidden = opened.from !== "ask";
    $("kb-title").focus();
  }

  function vote(helpful) {
    if (!opened) return;
    var id = opened.id;
    $("kb-yes").disabled = $("kb-no").disabled = true;
    $("kb-error").hidden = true;
    api("POST", "/kb/articles/" + id + "/vote", { helpful: helpful })
      .then(function () {
        voted[id] = true;
        if (!opened || opened.id !== id) return;
        $("kb-vote").hidden = true;
        $("kb-vote-status").textContent = text("kb.helpful.thanks");
        $("kb-vote-status").tabIndex = -1;
        $("kb-vote-status").focus(); // the buttons are gone: keep the keyboard nearby
      })
      .catch(function (error) { showError($("kb-error"), error); })
      .finally(function () { $("kb-yes").disabled = $("kb-no").disabled = false; });
  }

  $("kb-yes").addEventListener("click", function () { vote(true); });
  $("kb-no").addEventListener("click", function () { vote(false); });

  function back() {
    var from = opened ? opened.from : "ask";
    var opener = opened && opened.opener;
    opened = null;
    if (from === "chat" && W.state.chat.id != null) {
      W.show("chat");
    } else {
      W.show("home");
    }
    if (opener && opener.isConnected) opener.focus();
    else $(from === "chat" ? "chat-body" : "ask-body").focus();
  }

  $("kb-back").addEventListener("click", back);

  /* "This solved my problem": counted on the article with the question that led
   * there; the question is not sent and the form starts afresh. */
  $("kb-solved").addEventListener("click", function () {
    if (!opened) return;
    var button = $("kb-solved");
    var query = collapse($("ask-body").value).slice(0, DEFLECTION_QUERY_MAX);
    button.disabled = true;
    $("kb-error").hidden = true;
    api("POST", "/kb/deflections", { article_id: opened.id, query: query })
      .then(function () {
        opened = null;
        $("ask-body").value = "";
        W.askFiles.reset(null);
        reset();
        W.show("solved");
        $("solved-heading").focus();
      })
      .catch(function (error) { showError($("kb-error"), error); })
      .finally(function () { button.disabled = false; });
  });

  /* "Ask anyway": back to the form and send the question as it is (widget.js adds the
   * suggestions shown). */
  $("kb-ask-anyway").addEventListener("click", function () {
    opened = null;
    W.show("home");
    $("ask-body").focus();
    $("ask-form").requestSubmit();
  });

  $("solved-home").addEventListener("click", function () {
    W.show("home");
    $("ask-body").focus();
  });

  // ---- the article card in the chat ----------------------------------------------

  /* data = {card: "article", article_id, title, locale}: sent by an agent. */
  function articleCard(data) {
    var li = el("li", "sd-card sd-kb-card");
    li.appendChild(el("p", "sd-kb-card-label", text("kb.card.label")));
    var button = el("button", "sd-kb-open", data.title || text("kb.card.untitled"));
    button.type = "button";
    if (data.locale === "ja" || data.locale === "en") button.lang = data.locale;
    button.addEventListener("click", function () {
      openArticle(data.article_id, "chat", button);
    });
    li.appendChild(button);
    return li;
  }

  Object.assign(W, {
    kbSuggestedIds: suggestedIds,
    kbReset: reset,
    openArticle: openArticle,
    articleCard: articleCard,
  });
})();
