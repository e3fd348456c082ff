// Small progressive enhancements. Pages work without this file; it only adds comfort.
// No inline handlers anywhere (the CSP refuses them): everything hooks in from here.
"use strict";

(function () {
  // "Copy" buttons: data-copy-target names the element whose text is copied. They stay
  // hidden without JavaScript (and without a clipboard), where they could not work.
  function showCopyButtons(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("button[data-copy-target][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    var label = button.textContent;
    navigator.clipboard.writeText(source.textContent).then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Copy failed"; }
    ).finally(function () {
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // Forms with data-confirm ask first (Stop job, ...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  document.addEventListener("htmx:afterSettle", function (event) { showCopyButtons(event.target); });
})();

// === Evaluation job forms (issue 5) ==========================================================
(function () {
  // Controls only a page without JavaScript needs are hidden from here on (CSS: .js .nojs-only).
  document.documentElement.classList.add("js");

  // Forms with data-submit-once (the review page's Submit) send one POST: a second click is
  // ignored and the buttons are disabled once the first has gone out. The server would answer
  // a second POST with the same submission anyway (its idempotency key); this spares the wait.
  function submitButtons(form) {
    return form.querySelectorAll("button[type=submit], input[type=submit]");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches("form[data-submit-once]")) return;
    if (form.dataset.submitted === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
    var submitter = event.submitter;
    // After this tick, so the clicked button's name and value still go with the form.
    setTimeout(function () {
      submitButtons(form).forEach(function (button) { button.disabled = true; });
      if (submitter && submitter.dataset.busyLabel) {
        submitter.dataset.label = submitter.textContent;
        submitter.textContent = submitter.dataset.busyLabel;
      }
      form.setAttribute("aria-busy", "true");
    }, 0);
  });

  // Back to a page the browser kept in memory: its buttons work again (a resubmit of the same
  // review page is answered with the submission it already made).
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.submitted;
      form.removeAttribute("aria-busy");
      submitButtons(form).forEach(function (button) {
        button.disabled = false;
        if (button.dataset.label) button.textContent = button.dataset.label;
      });
    });
  });

  // The error summary at the top of a form takes the focus, so it is read first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  });

  // Choices the server refreshes out of band (a dataset's metrics, after a custom metric was
  // named) keep what the user ticked since the request left: the server drew what was ticked
  // when it was sent.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    var fragment = event.detail && event.detail.fragment;
    if (!target || !fragment || !target.classList.contains("w-checkboxselectmultiple")) return;
    var ticked = {};
    target.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      ticked[box.value] = box.checked;
    });
    fragment.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (!Object.prototype.hasOwnProperty.call(ticked, box.value)) return;
      box.checked = ticked[box.value];
      box.toggleAttribute("checked", ticked[box.value]);
    });
  });

  // After "Add ..." brought a new row, put the cursor in its first box.
  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!source || !source.classList || !source.classList.contains("add-row")) return;
    var rows = event.target.querySelectorAll ? event.target.querySelectorAll(".row") : [];
    var last = rows[rows.length - 1];
    var input = last && last.querySelector("input[type=text], select, textarea");
    if (input) input.focus();
  });
})();

// === Bulk deletion (issue 6) =================================================================
(function () {
  // The confirmation page: above 100 jobs the number must be typed. The server checks it
  // anyway; this only keeps the Delete button disabled until what is typed matches.
  function syncTypedCount(input) {
    var form = input.form;
    if (!form) return;
    var typed = input.value.replace(/[\s,._']/g, "");
    var ok = typed === input.dataset.confirmCount;
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = !ok;
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-confirm-count]")) {
      syncTypedCount(event.target);
    }
  });

  function syncAll() {
    document.querySelectorAll("input[data-confirm-count]").forEach(syncTypedCount);
  }
  document.addEventListener("DOMContentLoaded", syncAll);
  // After the submit-once handler above re-enables buttons on a page restored from memory.
  window.addEventListener("pageshow", syncAll);
})();

// === Live pages (issue 12) ====================================================================
// A page's live channel is one element (data-live) polling with htmx; the server answers with
// what changed, out of band, and says whether to poll again (data-live-active).
(function () {
  // A hidden tab asks at most once a minute; coming back, it asks at once.
  var HIDDEN_INTERVAL_MS = 60000;
  // By the element's id: each answer brings a new #live element in place of the old one.
  var lastSent = {};

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-live")) return;
    var key = elt.id || "live";
    var now = Date.now();
    if (document.hidden && now - (lastSent[key] || 0) < HIDDEN_INTERVAL_MS) {
      event.preventDefault();
      return;
    }
    lastSent[key] = now;
  });

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && window.htmx && document.querySelector("[data-live-active]")) {
      window.htmx.trigger(document.body, "live-now");
    }
  });

  // After Refresh the header waits for a sweep: the list's channel sends the wait along.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "live") return;
    var header = document.getElementById("sync-state");
    if (header && header.dataset.waitAfter) {
      event.detail.parameters.after = header.dataset.waitAfter;
      event.detail.parameters.since = header.dataset.waitSince || "0";
    }
  });

  // A row swapped out of band keeps the boxes the person ticked (Stop, Delete, Compare).
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    var fragment = event.detail && event.detail.fragment;
    if (!target || !fragment || target.tagName !== "TR") return;
    var ticked = {};
    target.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      ticked[box.name + "=" + box.value] = box.checked;
    });
    fragment.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      var key = box.name + "=" + box.value;
      if (!Object.prototype.hasOwnProperty.call(ticked, key)) return;
      box.checked = ticked[key];
      box.toggleAttribute("checked", ticked[key]);
    });
  });

  // "N s ago" stays true between two answers (the same words as job_format.ago_text).
  function agoText(seconds) {
    if (seconds < 0) return "just now";
    if (seconds < 90) return seconds + " s ago";
    if (seconds < 90 * 60) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 36 * 3600) return Math.floor(seconds / 3600) + " h ago";
    return null; // days and dates: left as the server wrote them
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-ago]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      var text = agoText(Math.floor((now - at) / 1000));
      if (text && el.textContent !== text) el.textContent = text;
    });
  }
  setInterval(tick, 1000);
})();
