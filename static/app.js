// Copy buttons: <button data-copy="element-id">Copy</button> copies that element's text.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) return;
  var text = source.value !== undefined && source.tagName !== "CODE" ? source.value : source.textContent;
  var done = function () {
    var label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    done();
  }
});

// Print buttons: <button data-print>Print</button>.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});

// Tables on narrow screens: each cell gets its column's name (data-label) so that a
// row can be shown as a card (app.css). Cells that span columns keep none.
function labelTableCells(table) {
  var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
  if (!head) return;
  var names = [];
  Array.prototype.forEach.call(head.cells, function (th) {
    var text = th.textContent.replace(/\s+/g, " ").trim();
    for (var i = 0; i < (th.colSpan || 1); i++) names.push(text);
  });
  var bodies = Array.prototype.slice.call(table.tBodies);
  if (table.tFoot) bodies.push(table.tFoot);
  bodies.forEach(function (body) {
    Array.prototype.forEach.call(body.rows, function (row) {
      var col = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        var span = cell.colSpan || 1;
        if (span === 1 && names[col] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[col]);
        col += span;
      });
    });
  });
}
function labelTables() {
  Array.prototype.forEach.call(document.querySelectorAll("table.table"), labelTableCells);
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", labelTables);
} else {
  labelTables();
}
