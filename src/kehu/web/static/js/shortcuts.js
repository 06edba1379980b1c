// Keyboard shortcuts of the staff pages: "?" lists them; j / k the next / previous ticket in
// the queue's order (the queue page remembers its order for the tab in sessionStorage); r the
// reply box, n the internal note; Esc closes the list. Keys typed into a field are left alone.
(function () {
  "use strict";
  var ORDER_KEY = "kehu.queue.order";
  var help = document.getElementById("shortcuts-help");

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function queueLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-ticket] a[href]"));
  }

  // On the queue: remember the tickets' order for the ticket pages opened from it.
  var links = queueLinks();
  if (links.length) {
    var seen = {};
    var paths = [];
    links.forEach(function (link) {
      var path = link.pathname;
      if (!seen[path]) {
        seen[path] = true;
        paths.push(path);
      }
    });
    try {
      window.sessionStorage.setItem(ORDER_KEY, JSON.stringify(paths));
    } catch (error) {
      // storage refused (private mode): j / k still move within the queue page itself
    }
  }

  function storedOrder() {
    try {
      var value = JSON.parse(window.sessionStorage.getItem(ORDER_KEY) || "[]");
      return Array.isArray(value) ? value : [];
    } catch (error) {
      return [];
    }
  }

  function move(step) {
    var rows = queueLinks();
    if (rows.length) {
      // the queue page: move the focus along its rows (Enter opens the ticket)
      var at = rows.indexOf(document.activeElement);
      var next = at < 0 ? (step > 0 ? 0 : rows.length - 1) : at + step;
      if (next >= 0 && next < rows.length) {
        rows[next].focus();
        rows[next].closest("tr").scrollIntoView({ block: "nearest" });
      }
      return;
    }
    var order = storedOrder();
    var here = order.indexOf(window.location.pathname);
    if (here >= 0 && here + step >= 0 && here + step < order.length) {
      window.location.assign(order[here + step]);
    }
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (field) {
      field.focus();
      field.scrollIntoView({ block: "center" });
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && help && help.open) {
      help.close();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (help && help.open && event.key !== "?") {
      return;
    }
    var handled = true;
    switch (event.key) {
      case "?":
        if (help && !help.open) {
          help.showModal();
        }
        break;
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "r":
        focusField("reply-body");
        break;
      case "n":
        focusField("note-body");
        break;
      default:
        handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  });
})();
