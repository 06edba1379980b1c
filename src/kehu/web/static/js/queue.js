// The ticket queue: "choose every ticket on this page", and in the bulk bar only the choice
// the chosen action needs (assignee, team or priority). Works without it too.
(function () {
  "use strict";
  function ready() {
    var all = document.getElementById("pick-all");
    if (all) {
      all.addEventListener("change", function () {
        var boxes = document.querySelectorAll("#bulk-form input[name='ticket']");
        for (var i = 0; i < boxes.length; i++) { boxes[i].checked = all.checked; }
      });
    }
    var action = document.getElementById("bulk-action");
    if (!action) { return; }
    var needs = { assign: "bulk-assignee", transfer: "bulk-team", priority: "bulk-priority" };
    function show() {
      ["bulk-assignee", "bulk-team", "bulk-priority"].forEach(function (id) {
        var field = document.getElementById(id);
        if (field) { field.hidden = needs[action.value] !== id; }
      });
    }
    action.addEventListener("change", show);
    show();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
