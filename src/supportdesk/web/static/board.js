/* The product board (/board) for staff with the product role: topics ranked by score
 * (distinct portals, optionally weighted by plan, halved every 90 days; the formula is
 * shown on the page), with mentions, trend and filters (state, text); a topic's detail
 * with its wishes and bug reports (portal, the customer's words, the conversation), the
 * internal discussion thread, the state changes (discussion, accept, decline), merge into
 * another topic and unmerge; and the development requests per status, with status
 * changes and title and complexity edits.  Other staff see a refusal (the API refuses
 * their changes with 403 anyway).
 *
 * Accepting a topic creates its request (REQ-n), and every request change is posted into
 * the customers' own chats by the server; this page only calls the API.
 *
 * Everything goes into the page with textContent (SD.el).
 */
(function () {
  "use strict";

  var SD = window.SD;
  var STATUSES = ["queued", "in_progress", "fixed", "released", "wont_fix"];
  // The request state machine (product/rules.py): where each status may go next.
  var NEXT_STATUS = {
    queued: ["in_progress", "wont_fix"],
    in_progress: ["fixed", "queued", "wont_fix"],
    fixed: ["released", "in_progress"],
    released: [],
    wont_fix: ["queued"],
  };
  var COMPLEXITIES = ["S", "M", "L"];
  var state = { topics: [], open: null, detail: null, requests: [], editing: null };

  function $(id) { return document.getElementById(id); }
  function t(code, fields) { return SD.t(code, fields); }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  function known(code, fallback) {
    var value = t(code);
    return value === code ? fallback : value;
  }

  function stateName(value) { return known("board.state." + value, value || ""); }
  function statusName(value) { return known("board.status." + value, value || ""); }
  function kindName(value) { return known("board.kind." + value, value || ""); }

  function notice(message) { $("bd-notice").textContent = message; }

  function button(label, className, onClick) {
    var node = SD.el("button", className, label);
    node.type = "button";
    node.addEventListener("click", function () { onClick(node); });
    return node;
  }

  /* The trend as a word and a sign: a number (change in mentions) or a word from the API. */
  function trendText(trend) {
    if (typeof trend === "number") {
      if (trend > 0) return t("board.trend.up", { n: trend });
      if (trend < 0) return t("board.trend.down", { n: -trend });
      return t("board.trend.flat");
    }
    if (typeof trend === "string" && trend) return known("board.trend." + trend, trend);
    return t("board.trend.flat");
  }

  function trendClass(trend) {
    if (trend === "up" || (typeof trend === "number" && trend > 0)) return "bd-trend bd-trend--up";
    if (trend === "down" || (typeof trend === "number" && trend < 0)) return "bd-trend bd-trend--down";
    return "bd-trend";
  }

  /* "REQ-1042" from a request, its number or its label. */
  function requestLabel(request) {
    var number = request && typeof request === "object" ? request.number : request;
    return typeof number === "number" ? "REQ-" + number : String(number || "");
  }

  /* The change in distinct portals: the last 30 days against the 30 days before. */
  function trendOf(topic) {
    if (topic.trend != null) return topic.trend;
    if (typeof topic.recent_mentions === "number" && typeof topic.previous_mentions === "number") {
      return topic.recent_mentions - topic.previous_mentions;
    }
    return 0;
  }

  function fmtScore(score) {
    return typeof score === "number" ? score.toFixed(2) : "";
  }

  /* ---------------------------------------------------------------- topics ---- */

  function topicQuery() {
    var params = new URLSearchParams();
    var chosen = $("bd-state").value;
    if (chosen && chosen !== "all") params.set("state", chosen);
    var q = $("bd-q").value.trim();
    if (q) params.set("q", q);
    params.set("sort", "score");
    return params.toString();
  }

  function renderTopics() {
    var rows = $("bd-rows");
    rows.textContent = "";
    // The default view is the open work: recorded and under discussion.
    var openOnly = $("bd-state").value === "";
    var shown = state.topics.filter(function (topic) {
      return !openOnly || topic.state === "recorded" || topic.state === "under_discussion";
    });
    shown.forEach(function (topic, index) {
      var tr = SD.el("tr");
      tr.dataset.topic = String(topic.id);
      if (state.open === topic.id) tr.className = "bd-current";
      tr.appendChild(SD.el("td", "bd-rank", String(index + 1)));
      var name = SD.el("th");
      name.scope = "row";
      var link = button(topic.title, "bd-topic-link", function () { openTopic(topic.id); });
      if (state.open === topic.id) link.setAttribute("aria-current", "true");
      name.appendChild(link);
      tr.appendChild(name);
      tr.appendChild(SD.el("td", "bd-mentions", String(topic.mentions)));
      tr.appendChild(SD.el("td", "bd-score", fmtScore(topic.score)));
      tr.appendChild(SD.el("td", null, null)).appendChild(SD.el("span", trendClass(trendOf(topic)), trendText(trendOf(topic))));
      var stateCell = SD.el("td");
      stateCell.appendChild(SD.el("span", "bd-badge bd-state--" + topic.state, stateName(topic.state)));
      if (topic.request) stateCell.appendChild(SD.el("span", "bd-req-number", " " + requestLabel(topic.request)));
      tr.appendChild(stateCell);
      rows.appendChild(tr);
    });
    $("bd-empty").hidden = shown.length > 0;
    $("bd-table").hidden = shown.length === 0;
  }

  function loadTopics() {
    showError($("bd-list-error"), "");
    return SD.api("GET", "/api/v1/topics?" + topicQuery()).then(function (topics) {
      state.topics = topics.items || topics;
      renderTopics();
      if (state.detail) renderMergeChoices();
    }, function (err) { showError($("bd-list-error"), err.message); });
  }

  /* ---------------------------------------------------------------- detail ---- */

  function openTopic(id) {
    state.open = id;
    showError($("bd-detail-error"), "");
    return loadDetail(id).then(function () {
      renderTopics();
      $("bd-detail-heading").focus();
    });
  }

  function loadDetail(id) {
    return SD.api("GET", "/api/v1/topics/" + id).then(function (answer) {
      if (state.open !== id) return null;
      // {topic, links, comments, request}: one object for the page.
      var topic = Object.assign({}, answer.topic, {
        links: answer.links, comments: answer.comments, request: answer.request,
      });
      // The topics merged into this one, by title (the board lists root topics only).
      var children = topic.merged_topic_ids || [];
      return Promise.all(children.map(function (child) {
        return SD.api("GET", "/api/v1/topics/" + child).then(function (found) { return found.topic; },
          function () { return { id: child, title: "#" + child }; });
      })).then(function (merged) {
        if (state.open !== id) return;
        topic.merged_topics = merged;
        state.detail = topic;
        renderDetail();
      });
    }).catch(function (err) { showError($("bd-detail-error"), err.message); });
  }

  function renderDetail() {
    var topic = state.detail;
    $("bd-detail").hidden = !topic;
    if (!topic) return;
    $("bd-detail-heading").textContent = topic.title;
    $("bd-detail-facts").textContent = t("board.detail.facts", {
      state: stateName(topic.state),
      mentions: topic.mentions,
      score: fmtScore(topic.score),
      created: SD.fmtTime(topic.created_at),
    });
    $("bd-detail-description").textContent = topic.description || "";
    $("bd-detail-description").hidden = !topic.description;

    var merged = $("bd-detail-merged");
    merged.textContent = "";
    merged.hidden = !topic.merged_into;
    if (topic.merged_into) {
      var target = state.topics.filter(function (other) { return other.id === topic.merged_into; })[0];
      var title = target ? target.title : "#" + topic.merged_into;
      merged.appendChild(SD.el("span", null, t("board.detail.merged_into", { title: title })));
      merged.appendChild(document.createTextNode(" "));
      merged.appendChild(button(t("board.merge.unmerge"), "bd-unmerge", unmerge));
    }
    var req = $("bd-detail-request");
    req.hidden = !topic.request;
    if (topic.request) {
      req.textContent = t("board.detail.request", {
        number: requestLabel(topic.request), status: statusName(topic.request.status),
      });
    }
    renderStateButtons(topic);
    renderMergeChoices();
    renderMergedHere(topic);
    renderLinks(topic.links || []);
    renderComments(topic.comments || []);
  }

  function renderStateButtons(topic) {
    var box = $("bd-detail-actions");
    box.textContent = "";
    if (topic.merged_into) return;
    if (topic.state === "recorded") {
      var discuss = button(t("board.action.discuss"), "bd-discuss", function (node) {
        setState("under_discussion", node);
      });
      discuss.id = "bd-discuss";
      box.appendChild(discuss);
    }
    // Accepting needs a discussion first (TOPIC_TRANSITIONS in product/rules.py).
    if (topic.state === "under_discussion") {
      var accept = button(t("board.action.accept"), "sd-primary bd-accept", function (node) {
        setState("accepted", node);
      });
      accept.id = "bd-accept";
      box.appendChild(accept);
    }
    if (topic.state === "recorded" || topic.state === "under_discussion") {
      var decline = button(t("board.action.decline"), "sd-danger bd-decline", function (node) {
        setState("declined", node);
      });
      decline.id = "bd-decline";
      box.appendChild(decline);
    }
    if (topic.state === "declined") {
      box.appendChild(button(t("board.action.reopen"), "bd-reopen", function (node) {
        setState("under_discussion", node);
      }));
    }
  }

  function renderMergeChoices() {
    var topic = state.detail;
    var form = $("bd-merge");
    form.hidden = !topic || !!topic.merged_into;
    if (form.hidden) return;
    var select = $("bd-merge-into");
    var chosen = select.value;
    select.textContent = "";
    var placeholder = SD.el("option", null, t("board.merge.choose"));
    placeholder.value = "";
    select.appendChild(placeholder);
    state.topics.forEach(function (other) {
      if (other.id === topic.id || other.merged_into) return;
      var option = SD.el("option", null, other.title);
      option.value = String(other.id);
      select.appendChild(option);
    });
    select.value = chosen;
  }

  /* The topics merged into this one, each with its own "Unmerge". */
  function renderMergedHere(topic) {
    var existing = $("bd-merged-here");
    if (existing) existing.remove();
    var children = topic.merged_topics || [];
    if (!children.length) return;
    var box = SD.el("div", "bd-merged-here");
    box.id = "bd-merged-here";
    box.appendChild(SD.el("p", "sd-muted", t("board.detail.merged_here")));
    var list = SD.el("ul");
    children.forEach(function (child) {
      var li = SD.el("li", null, child.title + " ");
      li.appendChild(button(t("board.merge.unmerge"), "bd-unmerge", function (node) {
        unmergeTopic(child.id, node);
      }));
      list.appendChild(li);
    });
    box.appendChild(list);
    $("bd-merge").insertAdjacentElement("afterend", box);
  }

  function renderLinks(links) {
    var list = $("bd-links");
    list.textContent = "";
    links.forEach(function (link) {
      var li = SD.el("li", "bd-link bd-link--" + (link.kind || "wish"));
      var head = SD.el("p", "bd-link-head");
      head.appendChild(SD.el("span", "bd-badge", kindName(link.kind || "wish")));
      head.appendChild(document.createTextNode(" "));
      head.appendChild(SD.el("span", "bd-portal", t("board.links.portal", { portal: link.portal || link.portal_id || "" })));
      head.appendChild(document.createTextNode(" · "));
      var conv = SD.el("a", "bd-conv", t("board.links.conversation", { id: link.conversation_id }));
      conv.href = "/console?conversation=" + encodeURIComponent(link.conversation_id);
      head.appendChild(conv);
      var time = SD.el("time", "sd-muted", " " + SD.fmtTime(link.created_at));
      time.dateTime = link.created_at || "";
      head.appendChild(time);
      li.appendChild(head);
      if (link.quote) li.appendChild(SD.el("blockquote", "bd-quote", link.quote));
      if (link.kind === "bug") {
        var facts = SD.el("dl", "bd-bug");
        [["steps", link.steps], ["expected", link.expected], ["actual", link.actual]].forEach(function (pair) {
          if (!pair[1]) return;
          facts.appendChild(SD.el("dt", null, t("board.bug." + pair[0])));
          facts.appendChild(SD.el("dd", null, pair[1]));
        });
        if ((link.attachment_ids || []).length) {
          facts.appendChild(SD.el("dt", null, t("board.bug.attachments")));
          facts.appendChild(SD.el("dd", null, link.attachment_ids.map(function (id) { return "#" + id; }).join(", ")));
        }
        li.appendChild(facts);
        // Confirming a bug accepts its topic with a bug request (not from "declined").
        var topic = state.detail;
        if (!topic.request && !topic.merged_into && topic.state !== "declined") {
          var confirm = button(t("board.bug.confirm"), "bd-confirm-bug", function (node) {
            confirmBug(link, node);
          });
          confirm.setAttribute("aria-label", t("board.bug.confirm_label", { id: link.conversation_id }));
          li.appendChild(confirm);
        }
      }
      list.appendChild(li);
    });
    $("bd-links-empty").hidden = links.length > 0;
  }

  function renderComments(comments) {
    var list = $("bd-comments");
    list.textContent = "";
    comments.forEach(function (comment) {
      var li = SD.el("li", "bd-comment");
      var head = SD.el("p", "bd-comment-head");
      head.appendChild(SD.el("span", "bd-comment-author", comment.author_name || ""));
      var time = SD.el("time", "sd-muted", " " + SD.fmtTime(comment.created_at));
      time.dateTime = comment.created_at || "";
      head.appendChild(time);
      li.appendChild(head);
      li.appendChild(SD.el("p", "bd-comment-body", comment.body));
      list.appendChild(li);
    });
    $("bd-comments-empty").hidden = comments.length > 0;
  }

  /* ---------------------------------------------------------------- topic actions ---- */

  /* Re-read what changed; the button that was used is gone, so the keyboard goes back to
   * the topic's heading (the notice says what happened). */
  function afterTopicChange(message) {
    notice(message);
    return Promise.all([loadTopics(), loadDetail(state.open), loadRequests()]).then(function () {
      $("bd-detail-heading").focus();
    });
  }

  function setState(next, node) {
    var topic = state.detail;
    node.disabled = true;
    showError($("bd-detail-error"), "");
    SD.api("POST", "/api/v1/topics/" + topic.id + "/state", { state: next }).then(function (answer) {
      var request = answer && answer.request; // "REQ-1042" once accepted
      var message = next === "accepted" && request
        ? t("board.accepted", { title: topic.title, number: requestLabel(request) })
        : t("board.state_changed", { title: topic.title, state: stateName(next) });
      return afterTopicChange(message);
    }, function (err) {
      node.disabled = false;
      showError($("bd-detail-error"), err.message);
    });
  }

  function confirmBug(link, node) {
    node.disabled = true;
    showError($("bd-detail-error"), "");
    SD.api("POST", "/api/v1/bugs/" + link.id + "/confirm", {}).then(function (answer) {
      return afterTopicChange(t("board.bug.confirmed", { number: requestLabel(answer.request) }));
    }, function (err) {
      node.disabled = false;
      showError($("bd-detail-error"), err.message);
    });
  }

  function merge() {
    var topic = state.detail;
    var into = Number($("bd-merge-into").value);
    showError($("bd-detail-error"), "");
    if (!into) {
      showError($("bd-detail-error"), t("board.merge.choose_first"));
      $("bd-merge-into").focus();
      return;
    }
    var target = state.topics.filter(function (other) { return other.id === into; })[0];
    $("bd-merge-submit").disabled = true;
    SD.api("POST", "/api/v1/topics/" + topic.id + "/merge", { into: into }).then(function () {
      return afterTopicChange(t("board.merged", {
        title: topic.title, into: target ? target.title : "#" + into,
      }));
    }, function (err) { showError($("bd-detail-error"), err.message); })
      .then(function () { $("bd-merge-submit").disabled = false; });
  }

  function unmerge(node) { unmergeTopic(state.detail.id, node); }

  function unmergeTopic(id, node) {
    node.disabled = true;
    showError($("bd-detail-error"), "");
    SD.api("POST", "/api/v1/topics/" + id + "/unmerge").then(function (topic) {
      return afterTopicChange(t("board.unmerged", { title: (topic && topic.title) || "#" + id }));
    }, function (err) {
      node.disabled = false;
      showError($("bd-detail-error"), err.message);
    });
  }

  function postComment() {
    var topic = state.detail;
    var body = $("bd-comment").value.trim();
    showError($("bd-comment-error"), "");
    if (!body) {
      showError($("bd-comment-error"), t("board.comments.required"));
      $("bd-comment").focus();
      return;
    }
    $("bd-comment-submit").disabled = true;
    SD.api("POST", "/api/v1/topics/" + topic.id + "/comments", { body: body }).then(function () {
      $("bd-comment").value = "";
      notice(t("board.comments.posted"));
      return loadDetail(topic.id);
    }, function (err) { showError($("bd-comment-error"), err.message); })
      .then(function () { $("bd-comment-submit").disabled = false; });
  }

  /* ---------------------------------------------------------------- requests ---- */

  function loadRequests() {
    showError($("bd-requests-error"), "");
    return SD.api("GET", "/api/v1/requests").then(function (requests) {
      state.requests = requests.items || requests;
      renderRequests();
    }, function (err) { showError($("bd-requests-error"), err.message); });
  }

  function renderRequests() {
    var box = $("bd-queue");
    box.textContent = "";
    STATUSES.forEach(function (status) {
      var column = SD.el("section", "bd-column bd-column--" + status);
      var headingId = "bd-status-" + status;
      column.setAttribute("aria-labelledby", headingId);
      var requests = state.requests.filter(function (req) { return req.status === status; });
      var heading = SD.el("h3", null, t("board.requests.column", { status: statusName(status), count: requests.length }));
      heading.id = headingId;
      column.appendChild(heading);
      var list = SD.el("ul", "bd-request-list");
      requests.forEach(function (req) { list.appendChild(requestCard(req)); });
      column.appendChild(list);
      box.appendChild(column);
    });
  }

  function requestCard(req) {
    var li = SD.el("li", "bd-request");
    li.dataset.request = requestLabel(req);
    var head = SD.el("p", "bd-request-head");
    head.appendChild(SD.el("span", "bd-req-number", requestLabel(req)));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(SD.el("span", "bd-badge", kindName(req.kind)));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(SD.el("span", "bd-badge bd-complexity",
      t("board.requests.complexity_value", { complexity: req.complexity || "—" })));
    li.appendChild(head);
    li.appendChild(SD.el("p", "bd-request-title", req.title));
    if (state.editing === requestLabel(req)) {
      li.appendChild(editForm(req));
      return li;
    }
    var bar = SD.el("div", "bd-buttons");
    var next = req.next_statuses || NEXT_STATUS[req.status] || [];
    if (next.length) {
      var id = "bd-move-" + requestLabel(req);
      var label = SD.el("label", "sd-visually-hidden", t("board.requests.move_label", { number: requestLabel(req) }));
      label.htmlFor = id;
      var select = SD.el("select", "bd-move");
      select.id = id;
      next.forEach(function (status) {
        var option = SD.el("option", null, statusName(status));
        option.value = status;
        select.appendChild(option);
      });
      bar.appendChild(label);
      bar.appendChild(select);
      var move = button(t("board.requests.move"), "bd-move-submit", function (node) {
        setStatus(req, select.value, node);
      });
      move.setAttribute("aria-label", t("board.requests.move_label", { number: requestLabel(req) }));
      bar.appendChild(move);
    }
    var edit = button(t("board.requests.edit"), "bd-edit", function () {
      state.editing = requestLabel(req);
      renderRequests();
      var input = document.getElementById("bd-title-" + requestLabel(req));
      if (input) input.focus();
    });
    edit.setAttribute("aria-label", t("board.requests.edit_label", { number: requestLabel(req) }));
    bar.appendChild(edit);
    li.appendChild(bar);
    var history = req.history || [];
    if (history.length) {
      var details = SD.el("details", "bd-history");
      details.appendChild(SD.el("summary", null, t("board.requests.history", { count: history.length })));
      var ol = SD.el("ol");
      history.forEach(function (step) {
        ol.appendChild(SD.el("li", null, t("board.requests.history_step", {
          status: statusName(step.status), time: SD.fmtTime(step.at || step.created_at),
        })));
      });
      details.appendChild(ol);
      li.appendChild(details);
    }
    return li;
  }

  function editForm(req) {
    var form = SD.el("form", "bd-edit-form");
    var titleId = "bd-title-" + requestLabel(req);
    var titleLabel = SD.el("label", null, t("board.requests.title"));
    titleLabel.htmlFor = titleId;
    var title = SD.el("input");
    title.id = titleId;
    title.maxLength = 200;
    title.required = true;
    title.value = req.title;
    var sizeId = "bd-size-" + requestLabel(req);
    var sizeLabel = SD.el("label", null, t("board.requests.complexity"));
    sizeLabel.htmlFor = sizeId;
    var size = SD.el("select");
    size.id = sizeId;
    COMPLEXITIES.forEach(function (value) {
      var option = SD.el("option", null, t("board.complexity." + value));
      option.value = value;
      size.appendChild(option);
    });
    size.value = req.complexity || "M";
    var error = SD.el("p", "sd-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    var save = SD.el("button", "sd-primary", t("board.requests.save"));
    save.type = "submit";
    var cancel = button(t("board.requests.cancel"), null, function () {
      state.editing = null;
      renderRequests();
    });
    [titleLabel, title, sizeLabel, size, error].forEach(function (node) { form.appendChild(node); });
    var bar = SD.el("div", "bd-buttons");
    bar.appendChild(save);
    bar.appendChild(cancel);
    form.appendChild(bar);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save.disabled = true;
      var body = {};
      if (title.value.trim() !== req.title) body.title = title.value.trim();
      if (size.value !== req.complexity) body.complexity = size.value;
      SD.api("PATCH", "/api/v1/requests/" + encodeURIComponent(requestLabel(req)), body).then(function (saved) {
        state.editing = null;
        notice(t("board.requests.saved", { number: requestLabel(saved || req) }));
        return loadRequests();
      }, function (err) {
        save.disabled = false;
        showError(error, err.message);
      });
    });
    return form;
  }

  function setStatus(req, status, node) {
    node.disabled = true;
    showError($("bd-requests-error"), "");
    SD.api("POST", "/api/v1/requests/" + encodeURIComponent(requestLabel(req)) + "/status",
      { status: status, client_key: SD.newKey() }).then(function () {
      notice(t("board.requests.moved", { number: requestLabel(req), status: statusName(status) }));
      var reload = [loadRequests()];
      if (state.open) reload.push(loadDetail(state.open));
      return Promise.all(reload);
    }, function (err) {
      node.disabled = false;
      showError($("bd-requests-error"), err.message);
    }).then(function () {
      var moved = document.querySelector('#bd-queue [data-request="' + requestLabel(req) + '"] .bd-move, ' +
                                         '#bd-queue [data-request="' + requestLabel(req) + '"] .bd-edit');
      if (moved) moved.focus();
    });
  }

  /* ---------------------------------------------------------------- start ---- */

  function wire() {
    $("bd-filter").addEventListener("submit", function (event) {
      event.preventDefault();
      loadTopics();
    });
    $("bd-state").addEventListener("change", loadTopics);
    $("bd-merge").addEventListener("submit", function (event) {
      event.preventDefault();
      merge();
    });
    $("bd-comment-form").addEventListener("submit", function (event) {
      event.preventDefault();
      postComment();
    });
    SD.onLocaleChange(function () {
      renderTopics();
      renderDetail();
      renderRequests();
    });
  }

  SD.boot(function (me) {
    if ((me.roles || []).indexOf("product") < 0) {
      $("bd-refused").hidden = false;
      return;
    }
    $("bd-manage").hidden = false;
    wire();
    loadTopics();
    loadRequests();
  });
})();
