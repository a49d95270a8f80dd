/* The customer widget (see widget.js): referrals in the chat, and the partner and vendor
 * entries the coaching (widget-triage.js) shows before a question is sent.
 *
 * Cards an agent sends (partners/ on the server, drawn through W.cardRenderers, which
 * widget-chat.js consults for card kinds it does not draw itself):
 *   partner_referral   certified partners (name, level, description in the customer's
 *                      language, website) with "Ask this partner": POST
 *                      /referrals/{referral_id}/leads, once per partner (the client_key
 *                      makes a retry safe), then a confirmation in the card;
 *   vendor_referral    a marketplace app's developer: support site, e-mail, support tab,
 *                      with the policy sentence;
 *   lead_confirmation  the server's confirmation that the partner was asked.
 *
 * Links leave the widget's small frame for a tab of their own.  Everything goes into the
 * page with textContent.
 */
(function () {
  "use strict";

  var W = window.SDWidget;
  var el = W.el;
  var text = W.text;
  var api = W.api;
  var showError = W.showError;

  var asked = {}; // "referral:partner" -> partner name: leads this page knows were made
  var leadKeys = {}; // "referral:partner" -> client_key, reused when the customer retries

  function customerLocale() { return document.documentElement.lang === "ja" ? "ja" : "en"; }

  /* {en, ja} -> the customer's language, else the other one. */
  function inLanguage(pair) {
    if (!pair) return "";
    if (typeof pair === "string") return pair;
    return pair[customerLocale()] || pair.en || pair.ja || "";
  }

  /* A partner's description: {description: {en, ja}} (cards) or description_en/_ja (API). */
  function partnerDescription(partner) {
    if (partner.description) return inLanguage(partner.description);
    return inLanguage({ en: partner.description_en, ja: partner.description_ja });
  }

  function levelName(level) {
    return W.has("partner.level." + level) ? text("partner.level." + level) : level || "";
  }

  /* Only http(s) and mailto: links come from data (the server checks them too). */
  function safeUrl(url) {
    return typeof url === "string" && /^(https?:\/\/|mailto:)/i.test(url) ? url : "";
  }

  function externalLink(href, label, className) {
    var link = el("a", className || "sd-ref-link", label);
    link.href = href;
    if (!/^mailto:/i.test(href)) {
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      // Say it opens a tab (for screen readers) without changing the visible text.
      link.appendChild(el("span", "sd-visually-hidden", " " + text("partner.new_tab")));
    }
    return link;
  }

  /* One partner: name, level, description, website. options.action: a node to add. */
  function partnerEntry(partner, options) {
    var li = el("li", "sd-partner");
    li.dataset.partnerId = String(partner.id);
    var head = el("p", "sd-partner-head");
    head.appendChild(el("span", "sd-partner-name", partner.name));
    if (partner.level) {
      head.appendChild(el("span", "sd-badge sd-level sd-level-" + partner.level, levelName(partner.level)));
    }
    li.appendChild(head);
    var description = partnerDescription(partner);
    if (description) li.appendChild(el("p", "sd-partner-text", description));
    var url = safeUrl(partner.contact_url);
    if (url) {
      li.appendChild(externalLink(url, text("partner.contact", { name: partner.name })));
    }
    if (options && options.action) li.appendChild(options.action);
    return li;
  }

  /* A marketplace app's developer contacts: support site, e-mail, support tab. */
  function vendorContacts(app) {
    var list = el("ul", "sd-ref-links");
    var site = safeUrl(app.support_url);
    if (site) list.appendChild(listItem(externalLink(site, text("vendor.site"))));
    if (app.support_email) {
      list.appendChild(listItem(externalLink("mailto:" + app.support_email,
        text("vendor.email", { email: app.support_email }))));
    }
    var tab = safeUrl(app.support_tab_url);
    if (tab) list.appendChild(listItem(externalLink(tab, text("vendor.tab"))));
    return list;
  }

  function listItem(child) {
    var li = el("li");
    li.appendChild(child);
    return li;
  }

  /* The app's name in the customer's language when the card carries both (names). */
  function appName(app) {
    var names = app.names || {};
    var locale = customerLocale();
    // Cards carry names {en, ja}; a triage result carries name (English) and name_ja.
    return names[locale] || (locale === "ja" && app.name_ja) || app.name || app.code || "";
  }

  // ---- the partner card --------------------------------------------------------

  function askButton(data, partner, status, error) {
    var pair = data.referral_id + ":" + partner.id;
    var button = el("button", "sd-secondary sd-ask-partner", text("partner.card.ask"));
    button.type = "button";
    button.setAttribute("aria-label", text("partner.card.ask_label", { name: partner.name }));
    if (asked[pair]) showAsked(button, status, asked[pair]);
    button.addEventListener("click", function () {
      if (button.disabled) return;
      button.disabled = true; // one request at a time; the server makes one lead anyway
      error.hidden = true;
      status.textContent = text("partner.card.sending");
      leadKeys[pair] = leadKeys[pair] || W.newKey();
      api("POST", "/referrals/" + data.referral_id + "/leads",
          { partner_id: partner.id, client_key: leadKeys[pair] })
        .then(function (result) {
          var name = (result && result.partner && result.partner.name) || partner.name;
          asked[pair] = name;
          showAsked(button, status, name);
        })
        .catch(function (err) {
          status.textContent = "";
          button.disabled = false;
          showError(error, err);
        });
    });
    return button;
  }

  function showAsked(button, status, name) {
    button.disabled = true;
    button.setAttribute("aria-pressed", "true");
    status.textContent = text("partner.card.asked", { name: name });
  }

  /* data = {card: "partner_referral", referral_id, specialization, partners, policy}. */
  function partnerCard(data) {
    var li = el("li", "sd-card sd-ref-card sd-partner-card");
    li.dataset.referralId = String(data.referral_id);
    li.appendChild(el("p", "sd-ref-label", text("partner.card.label")));
    var policy = inLanguage(data.policy);
    if (policy) li.appendChild(el("p", "sd-ref-policy", policy));
    var error = el("p", "sd-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    var list = el("ul", "sd-partners");
    (data.partners || []).forEach(function (partner) {
      var status = el("p", "sd-ref-status");
      status.setAttribute("role", "status");
      var action = el("div", "sd-partner-action");
      action.appendChild(askButton(data, partner, status, error));
      action.appendChild(status);
      list.appendChild(partnerEntry(partner, { action: action }));
    });
    li.appendChild(list);
    if ((data.partners || []).length) li.appendChild(el("p", "sd-muted sd-ref-hint", text("partner.card.ask_hint")));
    li.appendChild(error);
    return li;
  }

  // ---- the vendor card ---------------------------------------------------------

  /* data = {card: "vendor_referral", referral_id, app: {...}, policy}. */
  function vendorCard(data) {
    var app = data.app || {};
    var li = el("li", "sd-card sd-ref-card sd-vendor-card");
    li.appendChild(el("p", "sd-ref-label", text("vendor.card.label")));
    li.appendChild(el("p", "sd-ref-app", text("vendor.app", { app: appName(app), vendor: app.vendor || "" })));
    var policy = inLanguage(data.policy);
    if (policy) li.appendChild(el("p", "sd-ref-policy", policy));
    li.appendChild(vendorContacts(app));
    return li;
  }

  // ---- the lead confirmation ---------------------------------------------------

  /* data = {card: "lead_confirmation", referral_id, partner: {id, name}, message?}. */
  function leadConfirmation(data) {
    var partner = data.partner || {};
    var name = partner.name || data.partner_name || "";
    if (data.referral_id != null && partner.id != null) {
      asked[data.referral_id + ":" + partner.id] = name;
      markAsked(data.referral_id, partner.id, name);
    }
    var sentence = inLanguage(data.message) ||
      (name ? text("lead.confirmation", { name: name }) : text("lead.confirmation_unnamed"));
    var li = el("li", "sd-card sd-lead-confirmation");
    li.appendChild(el("p", "sd-thanks", sentence));
    return li;
  }

  /* A partner card already on screen learns that its partner was asked. */
  function markAsked(referralId, partnerId, name) {
    var card = document.querySelector('.sd-partner-card[data-referral-id="' + referralId + '"]');
    if (!card) return;
    var entry = card.querySelector('.sd-partner[data-partner-id="' + partnerId + '"]');
    if (!entry) return;
    var button = entry.querySelector(".sd-ask-partner");
    var status = entry.querySelector(".sd-ref-status");
    if (button && status && !button.disabled) showAsked(button, status, name);
  }

  W.cardRenderers = Object.assign(W.cardRenderers || {}, {
    partner_referral: partnerCard,
    vendor_referral: vendorCard,
    lead_confirmation: leadConfirmation,
  });

  Object.assign(W, {
    partnerEntry: partnerEntry,
    vendorContacts: vendorContacts,
    appName: appName,
    inLanguage: inLanguage,
  });
})();
