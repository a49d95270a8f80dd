/* Attachments in the widget and the console: uploads with progress, the chips of a
 * message being written, and the thumbnails, posters, lightbox and video player of the
 * timeline.  Exposes window.SDAttachments; each page creates one context:
 *
 *   var files = SDAttachments.create({
 *     t: function (code, fields) {...},     // the page's strings (codes "attach.*")
 *     headers: function (method) {...},     // auth: the widget's Bearer token, or the
 *                                           // console's CSRF header on unsafe methods
 *     cookie: true|false,                   // the console: media elements may load URLs
 *                                           // directly (videos then seek with Range)
 *   });
 *   var tray = files.tray(listElement, { onChange: fn });  // chips of pending files
 *   tray.add(fileList); tray.start(conversationId); tray.settled().then(...);
 *   tray.take() -> ids of finished uploads (their chips go), files.render(attachments)
 *   -> a list of thumbnails / posters / download links for a timeline item.
 *   files.wireDrop(zone, tray), files.wirePaste(field, tray): drag and drop, and
 *   screenshots pasted from the clipboard.
 *
 * Uploads: small files in one multipart POST (XHR, for upload progress); files from
 * RESUMABLE_BYTES up with the tus 1.0.0 endpoints, in chunks, resuming after a network
 * error from the offset the server reports.  Both carry a client_key, so a retry never
 * makes a second file.  Media are fetched with the page's credentials and shown through
 * blob: URLs (the widget cannot put its token on an <img> request).
 *
 * Filenames and every other user value go into the page with textContent only.
 * Needs common.js (window.SDCommon) loaded before it.
 */
(function () {
  "use strict";

  var RESUMABLE_BYTES = 8 * 1024 * 1024; // from this size on, the resumable path
  var CHUNK_BYTES = 4 * 1024 * 1024; // one PATCH of a resumable upload
  var MAX_RETRIES = 8; // consecutive network failures before an upload gives up
  var SIMPLE_RETRIES = 2; // a small upload is simply sent again (same client_key)

  var el = window.SDCommon.el;
  var newKey = window.SDCommon.newKey;

  function fmtSize(bytes) {
    var units = ["B", "KB", "MB", "GB"];
    var value = Number(bytes) || 0;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    var digits = unit === 0 || value >= 100 ? 0 : 1;
    return value.toFixed(digits) + " " + units[unit];
  }

  function fmtSeconds(seconds) {
    var s = Math.max(0, Math.round(Number(seconds) || 0));
    var m = Math.floor(s / 60);
    return m + ":" + String(s % 60).padStart(2, "0");
  }

  /* base64 of the UTF-8 bytes, as tus's Upload-Metadata wants it. */
  function base64(text) {
    var bytes = new TextEncoder().encode(String(text));
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary);
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  /* The files of a paste or drop event (a pasted screenshot is one image File). */
  function filesOf(transfer) {
    if (!transfer) return [];
    var files = Array.prototype.slice.call(transfer.files || []);
    if (!files.length && transfer.items) {
      Array.prototype.forEach.call(transfer.items, function (item) {
        if (item.kind === "file") {
          var file = item.getAsFile();
          if (file) files.push(file);
        }
      });
    }
    return files;
  }

  function create(options) {
    var t = options.t;
    var headersFor = options.headers || function () { return {}; };
    var cookie = Boolean(options.cookie);
    var blobs = {}; // media URL -> Promise of its blob: URL (each fetched once per page)

    /* ------------------------------------------------------------ errors ---- */

    function failure(status, code, message) {
      var error = new Error(message || t("attach.failed"));
      error.status = status;
      error.code = code || (status ? "http_" + status : "network_error");
      return error;
    }

    /* The server's refusal ({"error": {code, message}}, localised by the server, e.g.
     * "too large: the limit for images is 20 MB"), or a generic line. */
    function refusal(xhr) {
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      var error = (data && data.error) || {};
      return failure(xhr.status, error.code, error.message);
    }

    function isRetryable(error) {
      return error.status === 0 || error.status >= 500 || error.status === 408;
    }

    /* ------------------------------------------------------------ requests ---- */

    /* One XHR (fetch cannot report upload progress).  Resolves with the xhr on 2xx,
     * rejects with failure() otherwise; status 0 is a network error. */
    function send(method, url, body, headers, onProgress, control) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        xhr.open(method, url);
        var all = Object.assign({}, headersFor(method), headers || {});
        Object.keys(all).forEach(function (name) { xhr.setRequestHeader(name, all[name]); });
        if (onProgress && xhr.upload) {
          xhr.upload.onprogress = function (event) { if (event.lengthComputable) onProgress(event.loaded); };
        }
        xhr.onload = function () {
          if (xhr.status >= 200 && xhr.status < 300) resolve(xhr);
          else reject(refusal(xhr));
        };
        xhr.onerror = function () { reject(failure(0)); };
        xhr.onabort = function () { reject(failure(0, "aborted")); };
        if (control) control.xhr = xhr;
        xhr.send(body === undefined ? null : body);
      });
    }

    function json(xhr) {
      try { return JSON.parse(xhr.responseText); } catch (e) { return null; }
    }

    /* ---------------------------------------------------------- uploads ---- */

    /* Upload one file to a conversation.  Returns { promise (AttachmentPublic), abort }.
     * onProgress(bytesSent, total); onRetry() when a network error is being retried. */
    function upload(conversationId, file, hooks) {
      var control = { aborted: false, xhr: null };
      var clientKey = newKey();
      var run = file.size >= RESUMABLE_BYTES ? resumable : simple;
      var promise = run(conversationId, file, clientKey, hooks || {}, control);
      return {
        promise: promise,
        abort: function () {
          control.aborted = true;
          if (control.xhr) control.xhr.abort();
        },
      };
    }

    function simple(conversationId, file, clientKey, hooks, control) {
      var attempt = 0;
      function once() {
        var form = new FormData();
        form.append("client_key", clientKey);
        form.append("file", file, file.name || "file");
        return send("POST", "/api/v1/conversations/" + conversationId + "/attachments", form, {},
          function (loaded) { if (hooks.onProgress) hooks.onProgress(Math.min(loaded, file.size), file.size); },
          control
        ).then(json, function (error) {
          if (control.aborted || !isRetryable(error) || attempt >= SIMPLE_RETRIES) throw error;
          attempt += 1;
          if (hooks.onRetry) hooks.onRetry();
          return wait(500 * attempt).then(once); // same client_key: never a second file
        });
      }
      return once();
    }

    /* tus 1.0.0: create, then PATCH chunks from the server's offset; after a network
     * error, HEAD asks where the server is and the upload goes on from there. */
    function resumable(conversationId, file, clientKey, hooks, control) {
      var TUS = { "Tus-Resumable": "1.0.0" };
      var location = null;
      var offset = 0;
      var failures = 0;

      function progress(sent) {
        if (hooks.onProgress) hooks.onProgress(Math.min(sent, file.size), file.size);
      }

      function createUpload() {
        var metadata = "filename " + base64(file.name || "file") + ",client_key " + base64(clientKey);
        return send("POST", "/api/v1/conversations/" + conversationId + "/uploads", null,
          Object.assign({ "Upload-Length": String(file.size), "Upload-Metadata": metadata }, TUS),
          null, control
        ).then(function (xhr) {
          location = new URL(xhr.getResponseHeader("Location"), window.location.href).pathname;
        });
      }

      function finished(attachmentId) {
        return send("GET", location, undefined, TUS, null, control).then(function (xhr) {
          var attachment = json(xhr);
          if (attachment && attachment.id) return attachment;
          return { id: Number(attachmentId) };
        });
      }

      function next() {
        if (control.aborted) return Promise.reject(failure(0, "aborted"));
        // All there (e.g. the answer to the last chunk was lost): read the result.
        if (offset >= file.size) return finished(null);
        var end = Math.min(offset + CHUNK_BYTES, file.size);
        var start = offset;
        return send("PATCH", location, file.slice(start, end),
          Object.assign({ "Upload-Offset": String(start), "Content-Type": "application/offset+octet-stream" }, TUS),
          function (loaded) { progress(start + loaded); },
          control
        ).then(function (xhr) {
          failures = 0;
          offset = Number(xhr.getResponseHeader("Upload-Offset") || end);
          progress(offset);
          var attachmentId = xhr.getResponseHeader("Supportdesk-Attachment-Id");
          if (attachmentId) return finished(attachmentId);
          return next();
        }, recover);
      }

      /* A network error or a conflict: ask the server for its offset, then go on. */
      function recover(error) {
        if (control.aborted) throw error;
        if (!isRetryable(error) && error.status !== 409) throw error;
        failures += 1;
        if (failures > MAX_RETRIES) throw error;
        if (hooks.onRetry) hooks.onRetry();
        return wait(Math.min(8000, 400 * Math.pow(2, failures - 1))).then(function () {
          return send("HEAD", location, undefined, TUS, null, control);
        }).then(function (xhr) {
          offset = Number(xhr.getResponseHeader("Upload-Offset") || 0);
          progress(offset);
          return next();
        }, recover);
      }

      function start() {
        return createUpload().then(next, function (error) {
          if (control.aborted || !isRetryable(error)) throw error;
          failures += 1;
          if (failures > MAX_RETRIES) throw error;
          if (hooks.onRetry) hooks.onRetry();
          return wait(400 * failures).then(start);
        });
      }
      return start();
    }

    /* ---------------------------------------------------------- the tray ---- */

    /* The chips of the files of a message being written.  Files wait (held) until the
     * tray knows its conversation: the widget's first question creates it. */
    function tray(list, trayOptions) {
      var entries = [];
      var conversationId = null;
      var onChange = (trayOptions && trayOptions.onChange) || function () {};
      list.classList.add("sd-att-tray"); // labelled by the page (data-i18n-label="attach.pending")
      list.hidden = true;

      function changed() {
        list.hidden = entries.length === 0;
        onChange();
      }

      function chip(entry) {
        var li = el("li", "sd-att-chip");
        li.appendChild(el("span", "sd-att-chip-name", entry.file.name || "file"));
        li.appendChild(el("span", "sd-att-chip-size", fmtSize(entry.file.size)));
        var bar = el("progress", "sd-att-chip-progress");
        bar.max = 100;
        bar.value = 0;
        bar.setAttribute("aria-label", t("attach.progress", { name: entry.file.name || "file" }));
        li.appendChild(bar);
        var status = el("span", "sd-att-chip-status");
        status.setAttribute("aria-live", "polite");
        li.appendChild(status);
        var error = el("span", "sd-att-chip-error");
        error.setAttribute("role", "alert");
        error.hidden = true;
        li.appendChild(error);
        var remove = el("button", "sd-att-chip-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", t("attach.remove", { name: entry.file.name || "file" }));
        remove.title = remove.getAttribute("aria-label");
        remove.addEventListener("click", function () { drop(entry, true); });
        li.appendChild(remove);
        entry.node = li;
        entry.bar = bar;
        entry.status = status;
        entry.error = error;
        return li;
      }

      function show(entry) {
        var node = entry.node;
        node.dataset.state = entry.state;
        entry.bar.hidden = entry.state !== "uploading";
        var words = {
          held: t("attach.held"),
          uploading: t("attach.uploading", { percent: entry.percent }),
          done: t("attach.ready"),
          sending: t("attach.ready"),
          failed: "",
        };
        entry.status.textContent = entry.retrying ? t("attach.retrying") : words[entry.state] || "";
        entry.error.hidden = entry.state !== "failed";
        entry.error.textContent = entry.state === "failed" ? entry.message : "";
      }

      function begin(entry) {
        entry.state = "uploading";
        entry.percent = 0;
        show(entry);
        var job = upload(conversationId, entry.file, {
          onProgress: function (sent, total) {
            entry.retrying = false;
            entry.percent = total ? Math.floor((100 * sent) / total) : 100;
            entry.bar.value = entry.percent;
            show(entry);
          },
          onRetry: function () {
            entry.retrying = true;
            show(entry);
          },
        });
        entry.abort = job.abort;
        entry.promise = job.promise.then(function (attachment) {
          entry.attachment = attachment;
          entry.state = "done";
          entry.retrying = false;
          show(entry);
        }, function (error) {
          if (entry.removed) return;
          entry.state = "failed";
          entry.retrying = false;
          entry.message = error.message || t("attach.failed");
          show(entry);
        }).then(changed);
      }

      function drop(entry, focusNext) {
        var index = entries.indexOf(entry);
        if (index < 0) return;
        entry.removed = true;
        if (entry.abort && entry.state === "uploading") entry.abort();
        entries.splice(index, 1);
        var after = entry.node.nextElementSibling || entry.node.previousElementSibling;
        entry.node.remove();
        if (focusNext) {
          var target = after && after.querySelector(".sd-att-chip-remove");
          if (target) target.focus();
          else if (trayOptions && trayOptions.focusAfterRemove) trayOptions.focusAfterRemove();
        }
        changed();
      }

      function add(files) {
        Array.prototype.forEach.call(files || [], function (file) {
          var entry = { file: file, state: "held", percent: 0 };
          entries.push(entry);
          list.appendChild(chip(entry));
          show(entry);
          if (conversationId != null) begin(entry);
        });
        changed();
      }

      return {
        add: add,
        /* The conversation is known: upload what is held, and anything added later. */
        start: function (id) {
          conversationId = id;
          entries.forEach(function (entry) { if (entry.state === "held") begin(entry); });
          changed();
        },
        /* Another conversation: the chips go (running uploads are stopped). */
        reset: function (id) {
          entries.slice().forEach(function (entry) { drop(entry, false); });
          conversationId = id == null ? null : id;
        },
        /* Move the held files to another tray (the ask form's files to the chat). */
        moveTo: function (other) {
          var files = entries.map(function (entry) { return entry.file; });
          entries.slice().forEach(function (entry) { drop(entry, false); });
          other.add(files);
        },
        count: function () { return entries.length; },
        busy: function () {
          return entries.some(function (entry) { return entry.state === "uploading"; });
        },
        /* Resolves when no upload is running (failed ones keep their error). */
        settled: function () {
          var running = entries.filter(function (e) { return e.state === "uploading"; });
          if (!running.length) return Promise.resolve();
          return Promise.all(running.map(function (e) { return e.promise; })).then(this.settled.bind(this));
        },
        /* The finished uploads, for a message: { ids, sent(), kept() }.  They are
         * claimed (a second send does not take them again); sent() removes their
         * chips, kept() gives them back when the message was refused. */
        take: function () {
          var done = entries.filter(function (entry) { return entry.state === "done"; });
          done.forEach(function (entry) { entry.state = "sending"; show(entry); });
          return {
            ids: done.map(function (entry) { return entry.attachment.id; }),
            sent: function () { done.forEach(function (entry) { drop(entry, false); }); },
            kept: function () {
              done.forEach(function (entry) {
                if (entry.removed) return;
                entry.state = "done";
                show(entry);
              });
            },
          };
        },
      };
    }

    /* ------------------------------------------------------ input wiring ---- */

    /* An attach button that opens a (hidden) file input. */
    function wireButton(button, input, targetTray) {
      button.addEventListener("click", function () { input.click(); });
      input.addEventListener("change", function () {
        targetTray.add(input.files);
        input.value = "";
      });
    }

    /* A screenshot pasted into the field (or anywhere in the form) becomes an upload;
     * pasted text stays text. */
    function wirePaste(field, targetTray) {
      field.addEventListener("paste", function (event) {
        var files = filesOf(event.clipboardData);
        if (!files.length) return;
        event.preventDefault();
        targetTray.add(files);
      });
    }

    function wireDrop(zone, targetTray) {
      var depth = 0;
      function hasFiles(event) {
        var types = event.dataTransfer && event.dataTransfer.types;
        return types && Array.prototype.indexOf.call(types, "Files") >= 0;
      }
      zone.addEventListener("dragenter", function (event) {
        if (!hasFiles(event)) return;
        event.preventDefault();
        depth += 1;
        zone.classList.add("sd-att-dropping");
      });
      zone.addEventListener("dragover", function (event) {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
      });
      zone.addEventListener("dragleave", function () {
        depth = Math.max(0, depth - 1);
        if (!depth) zone.classList.remove("sd-att-dropping");
      });
      zone.addEventListener("drop", function (event) {
        depth = 0;
        zone.classList.remove("sd-att-dropping");
        var files = filesOf(event.dataTransfer);
        if (!files.length) return;
        event.preventDefault();
        targetTray.add(files);
      });
    }

    /* ------------------------------------------------------------ media ---- */

    /* A blob: URL of a media URL, fetched once with the page's credentials. */
    function blobUrl(url) {
      if (!blobs[url]) {
        blobs[url] = fetch(url, { headers: headersFor("GET"), credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) throw failure(response.status);
            return response.blob();
          })
          .then(function (blob) { return URL.createObjectURL(blob); });
        blobs[url].catch(function () { delete blobs[url]; }); // a later render tries again
      }
      return blobs[url];
    }

    function mediaImage(url, alt, className) {
      var img = el("img", className);
      img.alt = alt;
      img.decoding = "async";
      blobUrl(url).then(function (src) { img.src = src; }, function () {
        img.replaceWith(el("span", "sd-att-broken", t("attach.load_failed")));
      });
      return img;
    }

    /* The file itself: the console's cookie lets a link download it directly; the
     * widget's token cannot ride on a link, so the click fetches it and saves the blob. */
    function downloadLink(attachment) {
      var link = el("a", "sd-att-download", t("attach.download"));
      link.href = attachment.url;
      link.setAttribute("download", attachment.filename || "");
      link.setAttribute("aria-label", t("attach.download_named", { name: attachment.filename }));
      if (!cookie) {
        link.addEventListener("click", function (event) {
          event.preventDefault();
          blobUrl(attachment.url).then(function (src) {
            var save = el("a");
            save.href = src;
            save.download = attachment.filename || "download";
            document.body.appendChild(save);
            save.click();
            save.remove();
          }, function () { link.textContent = t("attach.load_failed"); });
        });
      }
      return link;
    }

    function caption(attachment) {
      var line = el("span", "sd-att-caption");
      line.appendChild(el("span", "sd-att-name", attachment.filename));
      var facts = [fmtSize(attachment.size)];
      if (attachment.kind === "video" && attachment.duration) facts.push(fmtSeconds(attachment.duration));
      line.appendChild(el("span", "sd-att-size", facts.join(" · ")));
      line.appendChild(downloadLink(attachment));
      return line;
    }

    function imageTile(attachment) {
      var open = el("button", "sd-att-thumb");
      open.type = "button";
      open.setAttribute("aria-label", t("attach.open_image", { name: attachment.filename }));
      if (attachment.thumbnail_url) {
        open.appendChild(mediaImage(attachment.thumbnail_url, "", "sd-att-thumb-img"));
      } else {
        open.appendChild(el("span", "sd-att-placeholder", t("attach.image")));
      }
      open.addEventListener("click", function () { lightbox(attachment, open); });
      return open;
    }

    function videoTile(attachment) {
      var holder = el("div", "sd-att-video");
      var play = el("button", "sd-att-poster");
      play.type = "button";
      play.setAttribute("aria-label", t("attach.play", { name: attachment.filename }));
      if (attachment.poster_url) play.appendChild(mediaImage(attachment.poster_url, "", "sd-att-poster-img"));
      else play.appendChild(el("span", "sd-att-placeholder", t("attach.video")));
      play.appendChild(el("span", "sd-att-play", "▶"));
      play.addEventListener("click", function () { startVideo(attachment, holder, play); });
      holder.appendChild(play);
      return holder;
    }

    /* The poster gives way to a <video controls> player.  The console streams it from
     * its URL (Range requests: it seeks); the widget plays a blob it fetched. */
    function startVideo(attachment, holder, play) {
      var video = el("video", "sd-att-player");
      video.controls = true;
      video.preload = "metadata";
      video.setAttribute("aria-label", attachment.filename);
      play.disabled = true;
      var source = cookie ? Promise.resolve(attachment.inline_url) : blobUrl(attachment.inline_url);
      if (attachment.poster_url) blobUrl(attachment.poster_url).then(function (src) { video.poster = src; }, function () {});
      source.then(function (src) {
        video.src = src;
        holder.replaceChildren(video);
        video.focus();
        var playing = video.play();
        if (playing && playing.catch) playing.catch(function () { /* the controls remain */ });
      }, function () {
        play.disabled = false;
        holder.appendChild(el("span", "sd-att-broken", t("attach.load_failed")));
      });
    }

    /* A timeline item's attachments: images as thumbnails (lightbox), videos as posters
     * (player), other files as download links. */
    function render(attachments) {
      var list = el("ul", "sd-att-list");
      (attachments || []).forEach(function (attachment) {
        var li = el("li", "sd-att sd-att--" + attachment.kind);
        li.dataset.attachment = String(attachment.id);
        if (attachment.kind === "image") li.appendChild(imageTile(attachment));
        else if (attachment.kind === "video") li.appendChild(videoTile(attachment));
        li.appendChild(caption(attachment));
        list.appendChild(li);
      });
      return list;
    }

    /* --------------------------------------------------------- lightbox ---- */

    var dialog = null;
    var opener = null;

    function lightboxDialog() {
      if (dialog) return dialog;
      dialog = el("dialog", "sd-lightbox");
      dialog.setAttribute("aria-labelledby", "sd-lightbox-title");
      var bar = el("div", "sd-lightbox-bar");
      var title = el("h2", "sd-lightbox-title");
      title.id = "sd-lightbox-title";
      bar.appendChild(title);
      var links = el("span", "sd-lightbox-links");
      bar.appendChild(links);
      var close = el("button", "sd-lightbox-close", "×");
      close.type = "button";
      close.setAttribute("aria-label", t("attach.close"));
      close.title = t("attach.close");
      close.addEventListener("click", function () { dialog.close(); });
      bar.appendChild(close);
      dialog.appendChild(bar);
      var stage = el("div", "sd-lightbox-stage");
      dialog.appendChild(stage);
      // A click on the backdrop (the dialog itself, outside its content) closes it.
      dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
      // Escape closes a modal <dialog> natively; focus goes back to what opened it.
      dialog.addEventListener("close", function () {
        stage.replaceChildren();
        if (opener && opener.isConnected) opener.focus();
        opener = null;
      });
      document.body.appendChild(dialog);
      return dialog;
    }

    function lightbox(attachment, from) {
      var box = lightboxDialog();
      opener = from || document.activeElement;
      box.querySelector(".sd-lightbox-title").textContent = attachment.filename;
      box.querySelector(".sd-lightbox-close").setAttribute("aria-label", t("attach.close"));
      box.querySelector(".sd-lightbox-links").replaceChildren(downloadLink(attachment));
      var stage = box.querySelector(".sd-lightbox-stage");
      stage.replaceChildren(el("p", "sd-att-loading", t("attach.loading")));
      var img = el("img", "sd-lightbox-img");
      img.alt = attachment.filename;
      blobUrl(attachment.inline_url || attachment.url).then(function (src) {
        img.src = src;
        if (box.open) stage.replaceChildren(img);
      }, function () {
        stage.replaceChildren(el("p", "sd-att-broken", t("attach.load_failed")));
      });
      if (!box.open) box.showModal();
      box.querySelector(".sd-lightbox-close").focus();
    }

    return {
      upload: upload,
      tray: tray,
      render: render,
      lightbox: lightbox,
      wireButton: wireButton,
      wirePaste: wirePaste,
      wireDrop: wireDrop,
      fmtSize: fmtSize,
    };
  }

  window.SDAttachments = { create: create, filesOf: filesOf, RESUMABLE_BYTES: RESUMABLE_BYTES };
})();
