// Suggestions after an "@" in the ticket page's note and reply boxes: the colleagues who may see
// the ticket (GET data-mentions, loaded once), filtered by what follows the "@"; arrow keys,
// Enter or Tab choose, Escape closes. The server resolves mentions itself: this only helps type.
(function () {
  "use strict";
  var MAX = 6;
  var TRIGGER = /(^|[^A-Za-z0-9])@([^\s@]{0,40})$/;

  function setUp(box) {
    var url = box.getAttribute("data-mentions");
    var colleagues = null;
    var loading = false;
    var list = document.createElement("ul");
    list.className = "mention-suggestions";
    list.id = box.id + "-mentions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.insertAdjacentElement("afterend", list);
    box.setAttribute("aria-controls", list.id);
    var shown = [];
    var chosen = 0;

    function query() {
      var before = box.value.slice(0, box.selectionStart);
      var found = TRIGGER.exec(before);
      return found ? found[2] : null;
    }

    function close() {
      list.hidden = true;
      shown = [];
      box.removeAttribute("aria-activedescendant");
    }

    function draw() {
      list.textContent = "";
      shown.forEach(function (person, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", i === chosen ? "true" : "false");
        item.setAttribute("data-username", person.username);
        item.textContent = person.name + " (@" + person.username + ")";
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(item);
      });
      list.hidden = shown.length === 0;
      if (shown.length) {
        box.setAttribute("aria-activedescendant", list.id + "-" + chosen);
      }
    }

    function suggest() {
      var typed = query();
      if (typed === null) {
        close();
        return;
      }
      if (colleagues === null) {
        if (!loading) {
          loading = true;
          fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then(function (answer) { return answer.ok ? answer.json() : []; })
            .then(function (people) { colleagues = people; suggest(); })
            .catch(function () { colleagues = []; });
        }
        return;
      }
      var lower = typed.toLowerCase();
      shown = colleagues.filter(function (person) {
        return person.username.toLowerCase().indexOf(lower) === 0 ||
          person.name.toLowerCase().indexOf(lower) !== -1;
      }).slice(0, MAX);
      chosen = 0;
      draw();
    }

    function choose(i) {
      var person = shown[i];
      if (!person) return;
      var caret = box.selectionStart;
      var before = box.value.slice(0, caret);
      var start = before.lastIndexOf("@");
      var inserted = "@" + person.username + " ";
      box.value = box.value.slice(0, start) + inserted + box.value.slice(caret);
      var at = start + inserted.length;
      box.setSelectionRange(at, at);
      close();
      box.focus();
    }

    box.addEventListener("input", suggest);
    box.addEventListener("blur", close);
    box.addEventListener("keydown", function (event) {
      if (list.hidden || !shown.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        chosen = (chosen + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        draw();
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        choose(chosen);
      } else if (event.key === "Escape") {
        close();
      }
    });
  }

  document.querySelectorAll("textarea[data-mentions]").forEach(setUp);
})();
