/* The customer widget (see widget.js): coaching before the question is sent.
 *
 * While the customer types in the ask form (600 ms after they stop) and again when they
 * press Send, POST /triage classifies the question.  Three answers get a coaching box
 * under the question, in the customer's language:
 *   - a vague technical problem: what is missing (which workflow or record, which
 *     action, expected and actual result, when, the error text, a screenshot), with
 *     "Add details" (back to the text) and "Send anyway";
 *   - out of scope (customisation, workflow design, app development, REST integration):
 *     the policy, kindly, and the matching certified partners (GET /partners);
 *   - a marketplace app: its developer's support site, e-mail and support tab.
 * Only confident answers coach (COACH_MIN_CONFIDENCE): a wrong hint costs more than none.
 * The customer can always send: Send is held once, only when the coaching it would show
 * is not on screen yet (widget.js asks W.holdForCoaching); pressing Send again, or "Send
 * anyway", sends.  A failed or slow triage never stops a question.
 *
 * The box is in a polite live region; everything goes in with textContent.
 */
(function () {
  "use strict";

  var W = window.SDWidget;
  var $ = W.$;
  var el = W.el;
  var text = W.text;
  var api = W.api;

  var DEBOUNCE_MS = 600;
  var MIN_LENGTH = 5; // shorter text says too little to classify
  var TEXT_MAX = 4000; // the API's limit
  var SEND_WAIT_MS = 3000; // on Send, wait at most this long for the triage
  var PARTNERS_SHOWN = 3;
  var CACHE_MAX = 50;
  // Below this the classifier is unsure: better no advice than wrong advice.
  var COACH_MIN_CONFIDENCE = 0.5;

  var timer = null;
  var asked = 0; // a late answer to an older text is dropped
  var results = {}; // question text -> triage result
  var cached = 0;
  var shown = null; // the coaching on screen: {kind, signature}
  var checking = false; // Send pressed, triage running
  var passing = null; // a question text the next submit lets through
  var partners = {}; // "specialization:language" -> Promise of the partner list

  function customerLocale() { return document.documentElement.lang === "ja" ? "ja" : "en"; }

  function collapse(value) { return value.split(/\s+/).join(" ").trim(); }

  function currentQuestion() { return collapse($("ask-body").value).slice(0, TEXT_MAX); }

  function triage(question) {
    if (results[question]) return Promise.resolve(results[question]);
    return api("POST", "/triage", { text: question, locale: customerLocale() }).then(function (result) {
      if (cached >= CACHE_MAX) { results = {}; cached = 0; }
      results[question] = result;
      cached += 1;
      return result;
    });
  }

  /* What coaching a result asks for, or null. The signature says whether two results
   * would show the same box. */
  function coachingFor(result) {
    if (!result || result.confidence < COACH_MIN_CONFIDENCE) return null;
    if (result.category === "technical_problem" && result.quality === "vague" &&
        (result.missing || []).length) {
      return { kind: "vague", result: result, signature: "vague:" + result.missing.join(",") };
    }
    if (result.category === "out_of_scope") {
      return { kind: "scope", result: result, signature: "scope:" + (result.specialization || "") };
    }
    if (result.category === "marketplace_app" && result.app) {
      return { kind: "app", result: result, signature: "app:" + result.app.code };
    }
    return null;
  }

  // ---- while typing ------------------------------------------------------------

  $("ask-body").addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, DEBOUNCE_MS);
  });

  function update() {
    var question = currentQuestion();
    var seq = ++asked;
    if (question.length < MIN_LENGTH) return render(null, question);
    triage(question).then(function (result) {
      if (seq === asked) render(coachingFor(result), question);
    }, function () {
      // Coaching is a help, not a step: a failed triage leaves the form as it is.
    });
  }

  // ---- on Send -------------------------------------------------------------------

  /* widget.js calls this with the question when the ask form is submitted: true means
   * "held" (the coaching is now on screen, or the triage is still running and this
   * module submits the form again when it answers). */
  function holdForCoaching(body) {
    var question = collapse(body).slice(0, TEXT_MAX);
    if (passing !== null && passing === question) {
      passing = null;
      return false;
    }
    if (question.length < MIN_LENGTH) return false;
    if (checking) return true; // a second press while the triage runs
    if (results[question]) return holdFor(coachingFor(results[question]), question);
    checking = true;
    clearTimeout(timer);
    var seq = ++asked;
    within(triage(question), SEND_WAIT_MS).then(coachingFor, function () { return null; })
      .then(function (coaching) {
        checking = false;
        // The customer changed the text meanwhile: they will press Send again.
        if (seq !== asked || currentQuestion() !== question) return;
        if (!holdFor(coaching, question)) sendNow(question);
      });
    return true;
  }

  /* Hold only when the coaching is not already what the customer sees. */
  function holdFor(coaching, question) {
    if (!coaching || (shown && shown.signature === coaching.signature)) return false;
    render(coaching, question);
    $("triage-heading").focus(); // read out, and the buttons are the next Tab stops
    return true;
  }

  function sendNow(question) {
    // Already on its way (widget.js disables Send while the question is posted).
    if ($("ask-form").querySelector("button[type=submit]").disabled) return;
    passing = question;
    $("ask-form").requestSubmit();
  }

  function within(promise, ms) {
    return new Promise(function (resolve, reject) {
      var late = setTimeout(function () { reject(new Error("triage timed out")); }, ms);
      promise.then(function (value) { clearTimeout(late); resolve(value); },
                   function (error) { clearTimeout(late); reject(error); });
    });
  }

  // ---- the box -------------------------------------------------------------------

  function render(coaching, question) {
    var box = $("triage-box");
    if (!coaching) {
      shown = null;
      box.hidden = true;
      box.replaceChildren();
      delete box.dataset.kind;
      return;
    }
    // The same advice stays as it is (no second announcement while the customer types).
    if (shown && shown.signature === coaching.signature) return;
    shown = coaching;
    box.replaceChildren();
    box.dataset.kind = coaching.kind;
    var heading = el("h3", "sd-triage-heading");
    heading.id = "triage-heading";
    heading.tabIndex = -1;
    box.appendChild(heading);
    if (coaching.kind === "vague") vagueAdvice(box, heading, coaching.result);
    else if (coaching.kind === "scope") scopeAdvice(box, heading, coaching.result);
    else appAdvice(box, heading, coaching.result);
    box.appendChild(actions(coaching.kind, question));
    box.hidden = false;
  }

  function vagueAdvice(box, heading, result) {
    heading.textContent = text("triage.vague.heading");
    box.appendChild(el("p", null, text("triage.vague.intro")));
    var list = el("ul", "sd-triage-missing");
    result.missing.forEach(function (item) {
      if (!W.has("triage.missing." + item)) return;
      var li = el("li", null, text("triage.missing." + item));
      li.dataset.missing = item;
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function scopeAdvice(box, heading, result) {
    var specialization = result.specialization || "";
    var work = W.has("triage.work." + specialization) ? text("triage.work." + specialization)
                                                      : text("triage.work.other");
    heading.textContent = text("triage.scope.heading");
    box.appendChild(el("p", null, text("triage.scope.policy", { work: work })));
    if (!specialization) return;
    var status = el("p", "sd-muted", text("triage.scope.loading"));
    box.appendChild(status);
    var list = el("ul", "sd-partners");
    list.setAttribute("aria-label", text("triage.scope.partners"));
    list.hidden = true;
    box.appendChild(list);
    partnersFor(specialization).then(function (found) {
      if (!list.isConnected) return;
      found.slice(0, PARTNERS_SHOWN).forEach(function (partner) {
        list.appendChild(W.partnerEntry(partner));
      });
      list.hidden = list.children.length === 0;
      status.textContent = list.children.length ? text("triage.scope.partners") : text("triage.scope.none");
    }, function () {
      if (list.isConnected) status.textContent = text("triage.scope.none");
    });
  }

  function partnersFor(specialization) {
    var language = customerLocale();
    var cacheKey = specialization + ":" + language;
    if (!partners[cacheKey]) {
      partners[cacheKey] = api("GET", "/partners?specialization=" + encodeURIComponent(specialization) +
                                      "&language=" + language)
        .then(function (found) { return Array.isArray(found) ? found : found.partners || []; })
        .catch(function (error) {
          delete partners[cacheKey]; // asked again next time
          throw error;
        });
    }
    return partners[cacheKey];
  }

  function appAdvice(box, heading, result) {
    var app = result.app;
    var name = W.appName(app);
    heading.textContent = text("triage.app.heading", { app: name });
    box.appendChild(el("p", null, text("triage.app.policy", { app: name, vendor: app.vendor || "" })));
    box.appendChild(W.vendorContacts(app));
  }

  function actions(kind, question) {
    var wrap = el("div", "sd-triage-after");
    if (kind !== "vague") wrap.appendChild(el("p", "sd-muted", text("triage.still_send")));
    var row = el("div", "sd-card-actions");
    var details = el("button", "sd-secondary", text(kind === "vague" ? "triage.add_details" : "triage.edit"));
    details.type = "button";
    details.id = "triage-add-details";
    details.addEventListener("click", function () {
      var box = $("ask-body");
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    });
    var anyway = el("button", "sd-secondary", text("triage.send_anyway"));
    anyway.type = "button";
    anyway.id = "triage-send-anyway";
    anyway.addEventListener("click", function () {
      if (!currentQuestion()) return;
      sendNow(currentQuestion());
    });
    row.appendChild(details);
    row.appendChild(anyway);
    wrap.appendChild(row);
    return wrap;
  }

  /* The question was sent, or the flow ended: no box, and no late answer. */
  function reset() {
    clearTimeout(timer);
    asked += 1;
    checking = false;
    passing = null;
    render(null, "");
  }

  // After a sent question widget.js calls W.kbReset(); the coaching goes with it.
  var kbReset = W.kbReset;
  W.kbReset = function () {
    kbReset();
    reset();
  };
  // "This solved my problem" empties the question without sending it.
  $("solved-home").addEventListener("click", reset);

  Object.assign(W, { holdForCoaching: holdForCoaching, triageReset: reset });
})();
