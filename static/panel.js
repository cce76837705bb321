// Small behaviours shared by every page: toasts (errors and notices), "Hide" buttons, rows and menus by
// keyboard, focus after htmx swaps, results shown by the control that was pressed, and anchors that land
// on their section once the lazy sections have loaded.
(function () {
  "use strict";

  // ---- Toasts: an error (role=alert) or a notice (the same box, styled as a success). ----
  function toast(text, kind) {
    var box = document.getElementById("toast");
    if (!box || !text) return;
    box.textContent = text;
    box.classList.toggle("toast-notice", kind === "notice");
    box.setAttribute("role", kind === "notice" ? "status" : "alert");
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  window.panelToast = toast;

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = "The request failed (" + xhr.status + ").";
    var parsed = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var message = parsed.querySelector(".error-fragment, .form-error");
    if (message) text = message.textContent.trim();
    xhr._panelToasted = true;
    toast(text);
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The panel could not be reached. Check the connection and try again.");
  });

  // A server answer may say what happened with the header HX-Trigger: {"notice": "text"}.
  document.addEventListener("notice", function (event) {
    var detail = event.detail || {};
    var text = typeof detail === "string" ? detail : (detail.value || detail.text || "");
    toast(String(text), "notice");
  });

  // ---- Rows: a click on a row's menu or links must not also open the row's inline editor. ----
  function guardCells(root) {
    root.querySelectorAll("[data-no-row-click]").forEach(function (cell) {
      if (cell._guarded) return;
      cell._guarded = true;
      cell.addEventListener("click", function (event) { event.stopPropagation(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    guardCells(document);
    document.body.addEventListener("htmx:load", function (event) {
      guardCells(event.detail.elt.parentNode || event.detail.elt);
    });
  });

  // ---- Row menus (<details> in .row-menu): one open at a time, closed by Escape or a click elsewhere. ----
  function openMenus() { return document.querySelectorAll(".row-menu details[open]"); }
  function closeMenus(except) {
    openMenus().forEach(function (menu) { if (menu !== except) menu.open = false; });
  }
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (menu.tagName !== "DETAILS" || !menu.closest(".row-menu") || !menu.open) return;
    closeMenus(menu);
  }, true);

  document.addEventListener("click", function (event) {
    var inMenu = event.target.closest(".row-menu details");
    closeMenus(inMenu);
    // A choice in the menu closes it (its action goes on).
    if (inMenu && event.target.closest(".menu button, .menu a")) inMenu.open = false;
    if (event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
      return;
    }
    var button = event.target.closest("[data-clear-closest]");
    if (button) {
      var holder = button.closest(button.getAttribute("data-clear-closest"));
      if (holder) holder.innerHTML = "";
    }
  });

  function menuItems(menu) {
    return Array.prototype.slice.call(menu.querySelectorAll(".menu button:not([disabled]), .menu a[href]"));
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var menu = target.closest && target.closest(".row-menu details");
    if (event.key === "Escape") {
      if (menu && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
        event.preventDefault();
        return;
      }
      if (openMenus().length) { closeMenus(null); event.preventDefault(); return; }
      // Escape in a form with a Cancel (data-cancel) cancels it.
      var form = target.closest && target.closest("form");
      var cancel = form && form.querySelector("[data-cancel]");
      if (cancel) { event.preventDefault(); cancel.click(); }
      return;
    }
    if (menu) {
      if ((event.key === "Enter" || event.key === " ") && target.tagName === "SUMMARY") {
        // Open it and put the focus on its first item at once (or close it), not when "toggle" comes.
        event.preventDefault();
        menu.open = !menu.open;
        if (menu.open) {
          closeMenus(menu);
          var first = menuItems(menu)[0];
          if (first) first.focus();
        }
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        var items = menuItems(menu);
        if (!items.length) return;
        if (!menu.open) { menu.open = true; closeMenus(menu); items[0].focus(); event.preventDefault(); return; }
        var index = items.indexOf(document.activeElement);
        index = event.key === "ArrowDown" ? (index + 1) % items.length : (index <= 0 ? items.length - 1 : index - 1);
        items[index].focus();
        event.preventDefault();
      }
      return;
    }
    // Enter on a focused clickable row opens it (its inline editor), as a click does.
    if (event.key === "Enter" && target.matches && target.matches("tr.clickable[tabindex]")) {
      event.preventDefault();
      target.click();
    }
  });

  // ---- Focus and results after an htmx swap. ----
  var USER_EVENTS = { click: 1, submit: 1, keyup: 1, keydown: 1, change: 1, input: 1, search: 1 };
  var FIELDS = "input:not([type=hidden]):not([disabled]):not([tabindex='-1']), select:not([disabled]), textarea:not([disabled])";

  function visible(element) {
    return !!(element.offsetWidth || element.offsetHeight || element.getClientRects().length);
  }

  function firstField(root) {
    var marked = root.querySelector("[data-autofocus]");
    if (marked) return marked;
    var invalid = root.querySelector("[aria-invalid=true]");
    if (invalid && visible(invalid)) return invalid;
    var fields = root.querySelectorAll(FIELDS);
    for (var i = 0; i < fields.length; i++) {
      if (visible(fields[i]) && fields[i].type !== "search") return fields[i];
    }
    return null;
  }

  // The field to focus in the forms a swap brought (not the check boxes of a grid, not a search box).
  function formField(root) {
    var forms = root.matches("form") ? [root] : Array.prototype.slice.call(root.querySelectorAll("form"));
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].hidden || forms[i].querySelector("input[type=search]")) continue;
      var field = firstField(forms[i]);
      if (field) return field;
    }
    return null;
  }

  // Remember, per request, the element that had the focus and what the pressed control is called.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var triggering = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    elt._panelUser = !!(triggering && USER_EVENTS[triggering.type]);
    var submitter = triggering && triggering.submitter;
    elt._panelControl = submitter || elt;
    elt._panelOpener = document.activeElement;
    var target = event.detail.target || (event.detail.requestConfig && event.detail.requestConfig.target);
    elt._panelNeighbour = target && (target.nextElementSibling || target.previousElementSibling || target.parentNode);
    // An opener inside a row menu: come back to the row (the menu goes with the swap).
    if (elt._panelOpener && elt._panelOpener.closest && elt._panelOpener.closest(".row-menu")) {
      elt._panelOpener = elt._panelOpener.closest("tr") || elt._panelOpener;
    }
  });

  function describe(control) {
    if (!control || !control.tagName) return null;
    return { tag: control.tagName, name: control.getAttribute("name"), value: control.getAttribute("value"),
             text: (control.textContent || "").trim(), id: control.id };
  }

  function findControl(root, wanted) {
    if (!wanted) return null;
    if (wanted.id && document.getElementById(wanted.id)) return document.getElementById(wanted.id);
    var candidates = root.querySelectorAll(wanted.tag.toLowerCase());
    for (var i = 0; i < candidates.length; i++) {
      var c = candidates[i];
      if (wanted.name && c.getAttribute("name") === wanted.name && c.getAttribute("value") === wanted.value) return c;
      if (!wanted.name && (c.textContent || "").trim() === wanted.text) return c;
    }
    return null;
  }

  // The message a swap brought: a notice, a refusal or a form's error.
  function messageIn(root) {
    var found = root.querySelector(".notice[role=status], .form-error, .error-fragment, [data-result]");
    if (!found && root.matches && root.matches(".notice[role=status], .form-error, .error-fragment")) found = root;
    return found;
  }

  // Show `text` right next to `control` (after it, or after its group of buttons).
  function resultBeside(control, text, isError) {
    if (!control || !document.contains(control) || !text) return;
    var group = control.closest(".save-options, .summary-actions, .actions, .menu") || control;
    if (group.closest(".menu")) return;  // a row's menu closes: the row shows its own notice
    var slot = group.nextElementSibling;
    if (!slot || !slot.classList.contains("action-result")) {
      slot = document.createElement("p");
      slot.className = "action-result";
      slot.setAttribute("role", "status");
      group.parentNode.insertBefore(slot, group.nextSibling);
    }
    slot.textContent = text;
    slot.classList.toggle("is-error", !!isError);
  }

  function swappedElement(detail) {
    var target = detail.target;
    if (target && target.id && !document.contains(target)) return document.getElementById(target.id) || target;
    return target;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail;
    var elt = detail.requestConfig && detail.requestConfig.elt;
    if (!elt || !detail.xhr || detail.xhr._panelSettled) return;  // once per answer, though settled per element
    detail.xhr._panelSettled = true;
    var root = swappedElement(detail);
    if (!root || !document.contains(root)) return;
    if (!elt._panelUser) {
      // A poll or a lazy load: only give the focus back if the swap took it away.
      if (document.activeElement === document.body && elt._panelOpener && elt._panelOpener !== document.body
          && !document.contains(elt._panelOpener) && root.matches("[tabindex]")) root.focus();
      return;
    }
    var wanted = describe(elt._panelControl);
    var control = document.contains(elt._panelControl) ? elt._panelControl
      : (findControl(root, wanted) || (wanted && wanted.tag === "BUTTON" && !wanted.name ? findControl(document, wanted) : null));
    var message = messageIn(root);
    var isError = detail.xhr && detail.xhr.status >= 400;
    if (message && (message.matches(".once, [data-no-echo]") || message.querySelector(".secret"))) {
      // A secret shown only once (a generated password) is never copied anywhere: bring it into view.
      message.scrollIntoView({ block: "nearest" });
      message = null;
    }
    if (message) {
      var text = message.textContent.replace(/\s+/g, " ").trim();
      if (!message.contains(control) && !(control && control.closest && control.closest(".row-menu"))) {
        // Beside the control unless the message sits right there already.
        var near = control && control.closest("form, section, tr");
        if (!near || !near.contains(message)) resultBeside(control, text, isError);
      }
      if (!detail.xhr._panelToasted) toast(text, isError ? "error" : "notice");
    }
    // Focus: the first field of a form that appeared; back to the row or the opener when it closed.
    var field = formField(root);
    if (field) {
      if (isError || !root.contains(document.activeElement) || document.activeElement === document.body) field.focus();
      else if (!document.activeElement.closest("form")) field.focus();
      return;
    }
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    if (root.matches("[tabindex]")) { root.focus(); return; }
    var opener = elt._panelOpener;
    if (opener && opener !== document.body && document.contains(opener)) { opener.focus(); return; }
    if (control && document.contains(control)) { control.focus(); return; }
    var focusable = root.querySelector("[tabindex='0'], a[href], button:not([disabled]), summary");
    if (focusable) focusable.focus();
  });

  // A swap that removed its target (a deleted row): the focus goes to the row beside it.
  document.addEventListener("htmx:afterRequest", function (event) {
    // detail.elt is the last element an event went to (the swaps reuse the detail): take the requester.
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var target = event.detail.target;
    if (!event.detail.successful || !elt || !target) return;
    setTimeout(function () {
      if (document.contains(target) || (target.id && document.getElementById(target.id))) return;
      var active = document.activeElement;
      if (active && active !== document.body && document.contains(active)) return;
      var next = elt._panelNeighbour;
      if (!next || !document.contains(next)) return;
      if (!next.matches("[tabindex]")) next = next.querySelector("[tabindex='0'], a[href], button:not([disabled])") || next;
      if (next.focus) next.focus();
    }, 30);
  });

  // ---- Anchors (#payments) land on their section after the lazy sections above it have loaded; an
  // anchor to a part of a form (the row the onboarding's "+ Add" made) puts the focus in its first field. ----
  document.addEventListener("DOMContentLoaded", function () {
    var hash = window.location.hash;
    if (!hash || hash.length < 2) return;
    var anchored = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (anchored && anchored.closest("form")) {
      // After the browser's own jump to the fragment, which would take the focus back to the page.
      window.addEventListener("load", function () {
        setTimeout(function () { var field = firstField(anchored); if (field) field.focus(); }, 0);
      });
    }
    var lazy = Array.prototype.slice.call(document.querySelectorAll("[hx-trigger^='load']"));
    if (!lazy.length) return;
    var pending = lazy.length;
    var done = false;
    function stop() { done = true; }
    ["wheel", "touchstart", "mousedown", "keydown"].forEach(function (name) {
      window.addEventListener(name, stop, { once: true, passive: true });
    });
    function land() {
      if (done) return;
      var target = document.getElementById(decodeURIComponent(hash.slice(1)));
      if (target) target.scrollIntoView({ block: "start" });
    }
    document.body.addEventListener("htmx:afterSettle", function (event) {
      if (done) return;
      var source = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (lazy.indexOf(source) >= 0 && !source._panelLanded) {
        source._panelLanded = true;
        pending -= 1;
      }
      land();
      if (pending <= 0) setTimeout(function () { land(); done = true; }, 50);
    });
    setTimeout(stop, 8000);
  });
})();

// Bulk changes on the customer list: the header box ticks (or clears) every row box of its table; a row
// box cleared clears the header box. Delegated, so rows swapped in by htmx work too.
(function () {
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
    var table = box.closest("table");
    if (!table) return;
    if (box.hasAttribute("data-select-page")) {
      table.querySelectorAll("tbody input[type=checkbox][name=ids]").forEach(function (row) { row.checked = box.checked; });
    } else if (box.name === "ids" && !box.checked) {
      var head = table.querySelector("[data-select-page]");
      if (head) head.checked = false;
    }
  });
})();
