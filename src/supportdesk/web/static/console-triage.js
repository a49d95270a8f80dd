/* The agent console (see console.js): the triage panel of the open conversation, and the
 * timeline's referral cards.
 *
 * The panel shows what the triage found (GET /api/v1/conversations/{id}/triage, stored
 * when the conversation was opened): category and subtype, quality, confidence, the
 * missing items, the matched marketplace app and the reasons.  Each finding comes with
 * its one-click action:
 *   out of scope      "Send partner card"   POST .../referrals {kind: "partner", specialization}
 *   marketplace app   "Send vendor card"    POST .../referrals {kind: "vendor", app_code}
 *   feature request   "Record wish"         the wish dialog of console-product.js
 *   vague problem     "Ask for specifics"   a polite message listing the missing items, in
 *                                           the conversation's language (the `console`
 *                                           catalogue), sent with the normal message endpoint
 *   always            "Search help articles" the KB side panel (console-kb.js) searched
 *                                           with the customer's question
 * A conversation without a stored triage (older than the feature) is classified on the
 * spot with POST /api/v1/triage from the customer's first message, and says so.
 *
 * The cards partner_referral, vendor_referral and lead_confirmation are drawn in the
 * timeline through C.cardNodes, which console-chat.js consults.
 *
 * User content goes into the page with textContent only (SD.el).
 */
(function () {
  "use strict";

  var SD = window.SD;
  var C = window.SDConsole;
  var state = C.state;
  var $ = C.$;
  var t = C.t;
  var showError = C.showError;

  var ALL_STRINGS = JSON.parse(document.getElementById("sd-strings").textContent);
  var MISSING = ["which_object", "which_action", "expected_vs_actual", "when", "error_text", "screenshot"];
  var KB_QUERY_MAX = 200; // the KB search's limit
  var TRIAGE_TEXT_MAX = 4000;

  // The open conversation's triage: {id, result, computed, status: "loading"|"ready"|"none"}.
  var triage = { id: null, result: null, computed: false, status: "none" };

  /* A string in a given language (the customer's), not the agent's. */
  function inLocale(locale, code, fields) {
    var table = ALL_STRINGS[locale] || ALL_STRINGS.en;
    return window.SDCommon.fill(table[code] != null ? table[code] : code, fields);
  }

  /* A code's text in the agent's language, or the fallback when the code is unknown. */
  function known(code, fallback) {
    var value = t(code);
    return value === code ? fallback : value;
  }

  function agentPair(pair) {
    if (!pair) return "";
    return pair[SD.locale()] || pair.en || pair.ja || "";
  }

  function specializationName(code) { return known("console.triage.spec." + code, code || ""); }

  /* The app's name in the agent's language when the card carries both (names). */
  function appName(app) {
    if (!app) return "";
    var names = app.names || {};
    var locale = SD.locale();
    // Cards carry names {en, ja}; a triage result carries name (English) and name_ja.
    return names[locale] || (locale === "ja" && app.name_ja) || app.name || app.code || "";
  }

  /* The customer's first message (the question the triage was made from). */
  function customerQuestion() {
    var seqs = Object.keys(state.items).map(Number).sort(function (a, b) { return a - b; });
    for (var i = 0; i < seqs.length; i++) {
      var item = state.items[seqs[i]];
      if (item.kind === "message" && item.author.type === "customer" && item.body) return item.body;
    }
    return state.conv ? state.conv.subject : "";
  }

  function mayAct() {
    var conv = state.conv;
    if (!conv) return !!state.openId; // not loaded yet: the server decides
    if (conv.state === "resolved" || conv.state === "closed") return false;
    return state.me.is_supervisor ||
      (conv.assigned_agent !== null && conv.assigned_agent.id === state.me.id);
  }

  /* ---------------------------------------------------------------- loading ---- */

  function load(id) {
    triage = { id: id, result: null, computed: false, status: "loading" };
    render();
    SD.api("GET", "/api/v1/conversations/" + id + "/triage").then(function (answer) {
      if (triage.id !== id) return;
      if (answer && answer.triage) {
        triage.result = answer.triage;
        triage.status = "ready";
        render();
      } else {
        computeFromQuestion(id); // still "loading" until it answers
      }
    }, function (err) {
      if (triage.id !== id) return;
      triage.status = "none";
      render();
      showError($("cs-triage-error"), err.message);
    });
  }

  /* No stored triage (a conversation older than the feature): classify the customer's
   * first message now.  Read from the API, as the timeline may still be loading. */
  function computeFromQuestion(id) {
    SD.api("GET", "/api/v1/conversations/" + id + "/items?after=0&limit=20").then(function (items) {
      var first = items.filter(function (item) {
        return item.kind === "message" && item.author.type === "customer" && item.body;
      })[0];
      if (!first) return null;
      var body = { text: first.body.slice(0, TRIAGE_TEXT_MAX) };
      if (state.conv && state.conv.id === id) body.locale = state.conv.locale;
      return SD.api("POST", "/api/v1/triage", body);
    }).then(function (result) {
      if (triage.id !== id) return;
      triage.result = result || null;
      triage.computed = !!result;
      triage.status = result ? "ready" : "none";
      render();
    }, function () {
      if (triage.id !== id) return;
      triage.status = "none";
      render();
    });
  }

  /* ---------------------------------------------------------------- panel ---- */

  function fact(list, label, value) {
    if (!value) return;
    list.appendChild(SD.el("dt", null, label));
    var dd = SD.el("dd");
    if (typeof value === "string") dd.textContent = value;
    else dd.appendChild(value);
    list.appendChild(dd);
  }

  function render() {
    var panel = $("cs-triage");
    panel.hidden = !state.openId;
    var body = $("cs-triage-body");
    var buttons = $("cs-triage-actions");
    body.textContent = "";
    buttons.textContent = "";
    if (triage.status === "loading") {
      body.appendChild(SD.el("p", "sd-muted", t("console.triage.loading")));
      return;
    }
    var result = triage.result;
    if (!result) {
      body.appendChild(SD.el("p", "sd-muted", t("console.triage.none")));
      buttons.appendChild(kbButton());
      return;
    }
    panel.dataset.category = result.category;
    var facts = SD.el("dl", "cs-triage-facts");
    var category = known("console.triage.category." + result.category, result.category);
    if (result.subtype) category += " · " + known("console.triage.subtype." + result.subtype, result.subtype);
    var categoryNode = SD.el("span", "cs-triage-category cs-triage--" + result.category, category);
    fact(facts, t("console.triage.category_label"), categoryNode);
    if (result.quality) {
      fact(facts, t("console.triage.quality_label"),
        SD.el("span", "cs-triage-quality cs-triage--" + result.quality,
          known("console.triage.quality." + result.quality, result.quality)));
    }
    var missing = (result.missing || []).filter(function (item) { return MISSING.indexOf(item) >= 0; });
    if (missing.length) {
      var list = SD.el("ul", "cs-triage-missing");
      missing.forEach(function (item) {
        var li = SD.el("li", null, t("console.triage.missing." + item));
        li.dataset.missing = item;
        list.appendChild(li);
      });
      fact(facts, t("console.triage.missing_label"), list);
    }
    if (result.app) {
      fact(facts, t("console.triage.app_label"),
        t("console.triage.app", { app: appName(result.app), vendor: result.app.vendor || "" }));
    }
    body.appendChild(facts);
    var meta = [];
    if (typeof result.confidence === "number") {
      meta.push(t("console.triage.confidence", { percent: Math.round(result.confidence * 100) }));
    }
    if (triage.computed) meta.push(t("console.triage.computed"));
    if (meta.length) body.appendChild(SD.el("p", "sd-muted cs-triage-meta", meta.join(" · ")));
    var reasons = result.reasons || [];
    if (reasons.length) {
      var details = SD.el("details", "cs-triage-reasons");
      details.appendChild(SD.el("summary", null, t("console.triage.reasons", { count: reasons.length })));
      var ul = SD.el("ul");
      reasons.forEach(function (reason) { ul.appendChild(SD.el("li", null, agentPair(reason))); });
      details.appendChild(ul);
      body.appendChild(details);
    }
    actionButtons(result, missing).forEach(function (button) { buttons.appendChild(button); });
  }

  function actionButton(id, label, onClick) {
    var button = SD.el("button", "cs-triage-action", label);
    button.type = "button";
    button.id = id;
    button.disabled = !mayAct();
    button.addEventListener("click", function () { onClick(button); });
    return button;
  }

  function kbButton() {
    var button = SD.el("button", "cs-triage-action", t("console.triage.search_kb"));
    button.type = "button";
    button.id = "cs-triage-kb";
    button.addEventListener("click", searchKb); // reading articles needs no write right
    return button;
  }

  function actionButtons(result, missing) {
    var buttons = [];
    if (result.category === "out_of_scope" && result.specialization) {
      buttons.push(actionButton("cs-triage-partner",
        t("console.triage.send_partner", { work: specializationName(result.specialization) }),
        function (button) {
          sendReferral(button, { kind: "partner", specialization: result.specialization },
                       "console.triage.sent_partner");
        }));
    }
    if (result.category === "marketplace_app" && result.app && result.app.code) {
      buttons.push(actionButton("cs-triage-vendor",
        t("console.triage.send_vendor", { app: appName(result.app) }),
        function (button) {
          sendReferral(button, { kind: "vendor", app_code: result.app.code }, "console.triage.sent_vendor");
        }));
    }
    if (result.category === "feature_request" && C.openWishDialog) {
      // The wish dialog (console-product.js), with the customer's question as the quote.
      buttons.push(actionButton("cs-triage-wish", t("console.triage.record_wish"), function () {
        C.openWishDialog(customerQuestion());
      }));
    }
    if (missing.length) {
      buttons.push(actionButton("cs-triage-ask", t("console.triage.ask_specifics"), function (button) {
        askForSpecifics(button, missing);
      }));
    }
    buttons.push(kbButton());
    return buttons;
  }

  /* ---------------------------------------------------------------- actions ---- */

  function done(message) {
    showError($("cs-triage-error"), "");
    $("cs-triage-status").textContent = message;
  }

  function failed(err) {
    $("cs-triage-status").textContent = "";
    showError($("cs-triage-error"), err.message);
  }

  function posted(id, item) {
    if (id !== state.openId) return;
    C.addItem(item);
    C.markRead();
  }

  function sendReferral(button, body, sentCode) {
    var id = state.openId;
    if (!id) return;
    button.disabled = true;
    showError($("cs-triage-error"), "");
    SD.api("POST", "/api/v1/conversations/" + id + "/referrals", body)
      .then(function (item) {
        posted(id, item);
        done(t(sentCode));
      }, failed)
      .then(function () { button.disabled = !mayAct(); });
  }

  /* The polite request in the conversation's language (the customer's), one line per
   * missing item. */
  function specificsMessage(locale, missing) {
    var lines = [inLocale(locale, "console.triage.ask.intro")];
    missing.forEach(function (item) { lines.push(inLocale(locale, "console.triage.ask.item." + item)); });
    lines.push(inLocale(locale, "console.triage.ask.outro"));
    return lines.join("\n");
  }

  function askForSpecifics(button, missing) {
    var id = state.openId;
    if (!id || !state.conv) return;
    var locale = state.conv.locale === "ja" ? "ja" : "en";
    button.disabled = true;
    showError($("cs-triage-error"), "");
    var message = { body: specificsMessage(locale, missing), client_key: SD.newKey(), internal: false };
    SD.api("POST", "/api/v1/conversations/" + id + "/messages", message)
      .then(function (item) {
        posted(id, item);
        done(t("console.triage.asked"));
      }, failed)
      .then(function () { button.disabled = !mayAct(); });
  }

  /* The KB side panel (console-kb.js), searched with the customer's question. */
  function searchKb() {
    var query = customerQuestion().split(/\s+/).join(" ").trim().slice(0, KB_QUERY_MAX);
    var input = $("cs-kb-q");
    input.value = query;
    $("cs-kb-search").requestSubmit();
    done(t("console.triage.kb_opened"));
    $("cs-kb").scrollIntoView({ block: "nearest" });
    input.focus();
  }

  /* ---------------------------------------------------------------- timeline cards ---- */

  function cardNode(item, sentence) {
    var li = SD.el("li", "cs-item cs-item--card cs-item--" + item.data.card);
    li.dataset.seq = String(item.seq);
    li.appendChild(SD.el("span", "cs-system-text", sentence));
    var time = SD.el("time", "cs-time", SD.fmtTime(item.created_at));
    time.dateTime = item.created_at;
    li.appendChild(time);
    return li;
  }

  function partnerCardNode(item) {
    var data = item.data;
    var names = (data.partners || []).map(function (partner) { return partner.name; });
    return cardNode(item, t("console.card.partner_referral", {
      name: item.author.name || "",
      work: specializationName(data.specialization),
      partners: names.join(", "),
    }));
  }

  function vendorCardNode(item) {
    return cardNode(item, t("console.card.vendor_referral", {
      name: item.author.name || "", app: appName(item.data.app),
    }));
  }

  function leadNode(item) {
    var partner = item.data.partner || {};
    var name = partner.name || item.data.partner_name || "";
    return cardNode(item, name ? t("console.card.lead_confirmation", { partner: name })
                               : t("console.card.lead_confirmation_unnamed"));
  }

  C.cardNodes = Object.assign(C.cardNodes || {}, {
    partner_referral: partnerCardNode,
    vendor_referral: vendorCardNode,
    lead_confirmation: leadNode,
  });

  /* ---------------------------------------------------------------- wiring ---- */

  function wireTriage() {
    // Follow the open conversation (as console-kb.js does).
    var open = C.openConversation;
    C.openConversation = function (id) {
      open(id);
      $("cs-triage-status").textContent = "";
      showError($("cs-triage-error"), "");
      load(id);
    };
    // Who may act changes with the conversation (assignment, resolution).
    var renderChatHead = C.renderChatHead;
    C.renderChatHead = function () {
      renderChatHead();
      if (triage.id === state.openId) render();
    };
    SD.onLocaleChange(function () { if (state.openId) render(); });
  }

  document.addEventListener("DOMContentLoaded", wireTriage);
})();
