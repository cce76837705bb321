// The Summary grid (templates/summary/_section.html): select cells like a spreadsheet, see the Sum and
// Average of one column, copy as tab-separated text, export the selected rows from the server.
// Listeners sit on the document, so the grid keeps working after htmx swaps the section.
(function () {
  "use strict";

  var GRID = "#summary-grid";
  var CELL = "td[data-col]";
  var state = { grid: null, selected: new Set(), anchor: null, active: null, base: null, dragging: false };

  // --- the grid's cells -----------------------------------------------------------------------

  function gridOf(node) {
    return node && node.closest ? node.closest(GRID) : null;
  }

  function columns(grid) {
    return Array.prototype.slice.call(grid.tHead.querySelectorAll("th[data-col]"));
  }

  function rowCount(grid) {
    return grid.tBodies[0] ? grid.tBodies[0].rows.length : 0;
  }

  function cellAt(grid, r, c) {
    var row = grid.tBodies[0].rows[r];
    return row ? row.querySelectorAll(CELL)[c] || null : null;
  }

  function where(cell) {
    var grid = gridOf(cell);
    var names = columns(grid).map(function (th) { return th.getAttribute("data-col"); });
    return { r: cell.parentNode.sectionRowIndex, c: names.indexOf(cell.getAttribute("data-col")) };
  }

  function key(r, c) { return r + "," + c; }

  function parseKey(k) {
    var parts = k.split(",");
    return { r: +parts[0], c: +parts[1] };
  }

  // A new grid (after a swap) starts with nothing selected.
  function use(grid) {
    if (state.grid !== grid) {
      state.grid = grid;
      state.selected = new Set();
      state.anchor = state.active = state.base = null;
      state.dragging = false;
    }
  }

  function rect(a, b) {
    var keys = new Set();
    for (var r = Math.min(a.r, b.r); r <= Math.max(a.r, b.r); r++) {
      for (var c = Math.min(a.c, b.c); c <= Math.max(a.c, b.c); c++) keys.add(key(r, c));
    }
    return keys;
  }

  function union(a, b) {
    var out = new Set(a);
    b.forEach(function (k) { out.add(k); });
    return out;
  }

  function setSelection(keys) {
    var grid = state.grid;
    state.selected = keys;
    grid.querySelectorAll(CELL + "[aria-selected=true]").forEach(function (cell) {
      cell.removeAttribute("aria-selected");
    });
    keys.forEach(function (k) {
      var p = parseKey(k);
      var cell = cellAt(grid, p.r, p.c);
      if (cell) cell.setAttribute("aria-selected", "true");
    });
    updateBar();
  }

  function focusCell(p, scroll) {
    var cell = cellAt(state.grid, p.r, p.c);
    if (!cell) return;
    var old = state.grid.querySelector(CELL + "[tabindex='0']");
    if (old && old !== cell) old.setAttribute("tabindex", "-1");
    cell.setAttribute("tabindex", "0");
    cell.focus({ preventScroll: !scroll });
    state.active = p;
  }

  // --- exact decimal sums (BigInt of the value × 10^places) --------------------------------------

  function scaled(text, places) {
    var negative = text.charAt(0) === "-";
    var digits = negative ? text.slice(1) : text;
    var parts = digits.split(".");
    var fraction = (parts[1] || "").padEnd(places, "0").slice(0, places);
    var value = BigInt(parts[0] + fraction);
    return negative ? -value : value;
  }

  function divideRounded(a, n) {
    var negative = a < BigInt(0);
    if (negative) a = -a;
    var q = (a * BigInt(2) + n) / (BigInt(2) * n);
    return negative ? -q : q;
  }

  function format(value, places) {
    var negative = value < BigInt(0);
    var digits = (negative ? -value : value).toString().padStart(places + 1, "0");
    var whole = digits.slice(0, digits.length - places).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var fraction = places ? "." + digits.slice(digits.length - places) : "";
    return (negative ? "-" : "") + whole + fraction;
  }

  // --- the Sum / Average bar --------------------------------------------------------------------

  var HINT = "Click a cell; shift-click or drag to extend, Ctrl/⌘-click to add; right-click to copy or export.";

  function stat(bar, name, text) {
    var output = bar.querySelector("[data-stat=" + name + "]");
    output.textContent = text;
    output.closest(".stat").hidden = text === null;
  }

  function updateBar(message) {
    var bar = document.getElementById("summary-bar");
    if (!bar || !state.grid) return;
    var hint = bar.querySelector("[data-stat-hint]");
    var heads = columns(state.grid);
    var cols = new Set();
    state.selected.forEach(function (k) { cols.add(parseKey(k).c); });
    stat(bar, "count", null);
    stat(bar, "sum", null);
    stat(bar, "average", null);
    hint.hidden = false;
    if (message) {
      hint.textContent = message;
      return;
    }
    if (!state.selected.size) {
      hint.textContent = HINT;
      return;
    }
    var th = cols.size === 1 ? heads[cols.values().next().value] : null;
    if (!th || th.getAttribute("data-kind") === "text") {
      stat(bar, "count", String(state.selected.size));
      hint.textContent = state.selected.size > 1 ? "Select cells of one figure column to see their sum and average." : "";
      hint.hidden = state.selected.size < 2;
      return;
    }
    var places = +th.getAttribute("data-places");
    var sum = BigInt(0);
    var n = 0;
    state.selected.forEach(function (k) {
      var p = parseKey(k);
      var text = cellAt(state.grid, p.r, p.c).getAttribute("data-value");
      if (text === "") return; // a ratio of nothing (—) is no value, as a blank cell in a spreadsheet
      sum += scaled(text, places);
      n += 1;
    });
    hint.hidden = true;
    stat(bar, "count", String(n));
    stat(bar, "sum", format(sum, places));
    var averagePlaces = Math.max(places, 2);
    var average = n ? format(divideRounded(sum * BigInt(10) ** BigInt(averagePlaces - places), BigInt(n)), averagePlaces) : "—";
    stat(bar, "average", average);
  }

  // --- copying ------------------------------------------------------------------------------------

  function selectedRowsAndColumns() {
    var rows = new Set(), cols = new Set();
    state.selected.forEach(function (k) {
      var p = parseKey(k);
      rows.add(p.r);
      cols.add(p.c);
    });
    var byNumber = function (a, b) { return a - b; };
    return { rows: Array.from(rows).sort(byNumber), cols: Array.from(cols).sort(byNumber) };
  }

  // Tab-separated, one line per selected row; a cell of those rows and columns that is not selected stays empty.
  function asText(withHeaders) {
    var grid = state.grid;
    var heads = columns(grid);
    var picked = selectedRowsAndColumns();
    var lines = [];
    if (withHeaders) {
      lines.push(picked.cols.map(function (c) { return heads[c].textContent.trim(); }).join("\t"));
    }
    picked.rows.forEach(function (r) {
      lines.push(picked.cols.map(function (c) {
        return state.selected.has(key(r, c)) ? cellAt(grid, r, c).getAttribute("data-value") : "";
      }).join("\t"));
    });
    return lines.join("\n");
  }

  function copy(withHeaders) {
    if (!state.selected.size) return;
    var text = asText(withHeaders);
    var count = state.selected.size;
    var done = function () { updateBar("Copied " + count + (count === 1 ? " cell" : " cells") + (withHeaders ? " with headers." : ".")); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {
        updateBar("The browser did not allow copying: select the cells and press Ctrl+C (⌘C).");
      });
    } else {
      updateBar("This browser cannot copy from a menu: press Ctrl+C (⌘C).");
    }
  }

  // --- exporting (the server builds the file from the roll-up) ------------------------------------

  function exportSelection(format) {
    var form = document.getElementById("summary-export");
    if (!form || !state.selected.size) return;
    var grid = state.grid;
    var heads = columns(grid);
    var picked = selectedRowsAndColumns();
    form.querySelectorAll("[data-added]").forEach(function (input) { input.remove(); });
    var add = function (name, value) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      input.setAttribute("data-added", "");
      form.appendChild(input);
    };
    add("format", format);
    picked.rows.forEach(function (r) { add("period", grid.tBodies[0].rows[r].getAttribute("data-period")); });
    picked.cols.forEach(function (c) { add("column", heads[c].getAttribute("data-col")); });
    form.submit(); // an attachment: the page stays
    updateBar("Export of " + picked.rows.length + (picked.rows.length === 1 ? " row" : " rows") + " as " + format.toUpperCase() + " requested.");
  }

  // --- the context menu ---------------------------------------------------------------------------

  function menu() { return document.getElementById("summary-menu"); }

  var openedAt = null; // the page's scroll position when the menu opened

  function openMenu(x, y) {
    var box = menu();
    if (!box) return;
    box.hidden = false;
    openedAt = [window.scrollX, window.scrollY];
    var width = box.offsetWidth, height = box.offsetHeight;
    // CSSOM positions are allowed by the CSP (style-src 'self'); style="" attributes are not.
    box.style.left = Math.max(0, Math.min(x, window.innerWidth - width - 4)) + "px";
    box.style.top = Math.max(0, Math.min(y, window.innerHeight - height - 4)) + "px";
    var first = box.querySelector("[role=menuitem]");
    if (first) first.focus({ preventScroll: true });
  }

  function closeMenu(returnFocus) {
    var box = menu();
    if (!box || box.hidden) return;
    box.hidden = true;
    if (returnFocus && state.active && state.grid && document.contains(state.grid)) focusCell(state.active);
  }

  function act(action) {
    closeMenu(true);
    if (action === "copy") copy(false);
    else if (action === "copy-headers") copy(true);
    else if (action === "export-csv") exportSelection("csv");
    else if (action === "export-xlsx") exportSelection("xlsx");
  }

  // --- mouse --------------------------------------------------------------------------------------

  document.addEventListener("mousedown", function (event) {
    var box = menu();
    if (box && !box.hidden && !box.contains(event.target)) closeMenu(false);
    var cell = event.target.closest && event.target.closest(CELL);
    var grid = gridOf(cell);
    if (!cell || !grid || event.button !== 0) return;
    use(grid);
    event.preventDefault(); // no text selection while dragging over cells
    var p = where(cell);
    var adding = event.ctrlKey || event.metaKey;
    if (event.shiftKey && state.anchor) {
      state.base = adding ? new Set(state.selected) : new Set();
      setSelection(union(state.base, rect(state.anchor, p)));
    } else if (adding) {
      var keys = new Set(state.selected);
      if (keys.has(key(p.r, p.c))) {
        keys.delete(key(p.r, p.c));
        state.base = null; // a cell taken out: no drag from it
      } else {
        state.base = new Set(keys);
        keys.add(key(p.r, p.c));
      }
      state.anchor = p;
      setSelection(keys);
    } else {
      state.base = new Set();
      state.anchor = p;
      setSelection(new Set([key(p.r, p.c)]));
    }
    state.dragging = state.base !== null;
    focusCell(p);
  });

  document.addEventListener("mouseover", function (event) {
    if (!state.dragging) return;
    if (event.buttons === 0) { state.dragging = false; return; } // released outside the window
    var cell = event.target.closest && event.target.closest(CELL);
    if (!cell || gridOf(cell) !== state.grid) return;
    var p = where(cell);
    setSelection(union(state.base, rect(state.anchor, p)));
    state.active = p;
  });

  document.addEventListener("mouseup", function () { state.dragging = false; });

  document.addEventListener("contextmenu", function (event) {
    var cell = event.target.closest && event.target.closest(CELL);
    var grid = gridOf(cell);
    if (!cell || !grid) return;
    use(grid);
    var p = where(cell);
    if (!state.selected.has(key(p.r, p.c))) {
      state.anchor = p;
      setSelection(new Set([key(p.r, p.c)]));
    }
    state.active = p;
    event.preventDefault();
    openMenu(event.clientX, event.clientY);
  });

  document.addEventListener("click", function (event) {
    var item = event.target.closest && event.target.closest("#summary-menu [data-summary-action]");
    if (item) act(item.getAttribute("data-summary-action"));
  });

  // --- keyboard -----------------------------------------------------------------------------------

  var MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
                Home: [0, -1000], End: [0, 1000], PageUp: [-1000, 0], PageDown: [1000, 0] };

  document.addEventListener("keydown", function (event) {
    var box = menu();
    if (box && !box.hidden && box.contains(event.target)) {
      var items = Array.prototype.slice.call(box.querySelectorAll("[role=menuitem]"));
      var at = items.indexOf(document.activeElement);
      if (event.key === "Escape") { event.preventDefault(); closeMenu(true); }
      else if (event.key === "ArrowDown") { event.preventDefault(); items[(at + 1) % items.length].focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); items[(at - 1 + items.length) % items.length].focus(); }
      else if (event.key === "Tab") { closeMenu(false); }
      return;
    }
    var cell = event.target.closest && event.target.closest(CELL);
    var grid = gridOf(cell);
    if (!cell || !grid) {
      if (event.key === "Escape" && state.grid && state.selected.size && document.contains(state.grid)) setSelection(new Set());
      return;
    }
    use(grid);
    var p = where(cell);
    var command = event.ctrlKey || event.metaKey;
    if (event.key === "Escape") {
      event.preventDefault();
      setSelection(new Set());
    } else if (command && (event.key === "a" || event.key === "A")) {
      event.preventDefault();
      state.anchor = { r: 0, c: 0 };
      setSelection(rect(state.anchor, { r: rowCount(grid) - 1, c: columns(grid).length - 1 }));
    } else if (event.key === "ContextMenu" || (event.shiftKey && event.key === "F10")) {
      event.preventDefault();
      if (!state.selected.has(key(p.r, p.c))) {
        state.anchor = p;
        setSelection(new Set([key(p.r, p.c)]));
      }
      state.active = p;
      var box2 = cell.getBoundingClientRect();
      openMenu(box2.left + 8, box2.bottom);
    } else if (MOVES[event.key] && !command) {
      event.preventDefault();
      var move = MOVES[event.key];
      var to = {
        r: Math.max(0, Math.min(rowCount(grid) - 1, p.r + move[0])),
        c: Math.max(0, Math.min(columns(grid).length - 1, p.c + move[1])),
      };
      if (event.shiftKey) {
        if (!state.anchor) state.anchor = p;
        setSelection(rect(state.anchor, to));
      } else {
        state.anchor = to;
        setSelection(new Set([key(to.r, to.c)]));
      }
      focusCell(to, true);
    } else if (event.key === " " && !command) {
      event.preventDefault();
      state.anchor = p;
      var keys = new Set(state.selected);
      if (keys.has(key(p.r, p.c))) keys.delete(key(p.r, p.c)); else keys.add(key(p.r, p.c));
      setSelection(keys);
    }
  });

  // Ctrl+C / ⌘C on the grid copies the selected cells (as the menu's Copy does).
  document.addEventListener("copy", function (event) {
    var grid = gridOf(document.activeElement);
    if (!grid || grid !== state.grid || !state.selected.size) return;
    event.clipboardData.setData("text/plain", asText(false));
    event.preventDefault();
    updateBar("Copied " + state.selected.size + (state.selected.size === 1 ? " cell." : " cells."));
  });

  // A new grid (the section swapped by htmx) brings its own closed menu and starts with no selection (use());
  // swaps elsewhere on the page, like the overview's polling, leave the menu open.
  window.addEventListener("resize", function () { closeMenu(false); });
  // Scrolling closes the menu, but not the page's scroll event from before it opened (Chromium fires it a
  // frame late: after a right-click on a cell that was scrolled into view, say).
  window.addEventListener("scroll", function (event) {
    var page = event.target === document || event.target === document.documentElement;
    if (page && openedAt && window.scrollX === openedAt[0] && window.scrollY === openedAt[1]) return;
    closeMenu(false);
  }, true);
})();
