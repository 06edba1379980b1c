// The ticket page's canned replies: "Use in the reply" puts the chosen macro, already filled in
// for the ticket by the server, into the reply box (after what is typed there already) instead
// of asking the page again. No inline script: the page's CSP allows only kehu's own files.
(function () {
  "use strict";
  var picker = document.getElementById("macro-picker");
  var reply = document.getElementById("reply-body");
  if (!picker || !reply) {
    return;
  }
  picker.addEventListener("submit", function (event) {
    var choice = picker.querySelector("select[name=macro]");
    var option = choice && choice.options[choice.selectedIndex];
    if (!option || !option.value || !option.hasAttribute("data-text")) {
      return; // nothing chosen: the browser's own check of the required field answers
    }
    event.preventDefault();
    var text = option.getAttribute("data-text");
    reply.value = reply.value.trim() ? reply.value.replace(/\s+$/, "") + "\n\n" + text : text;
    reply.focus();
    reply.setSelectionRange(reply.value.length, reply.value.length);
    choice.value = "";
  });
})();
