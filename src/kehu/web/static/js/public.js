// The public pages: tell kehu the visitor's time zone, so that the service promise is told in
// their own time (a hidden form field and the kehu_tz cookie). Nothing else; no inline script.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    zone = "";
  }
  if (!/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
    return;
  }
  document.cookie = "kehu_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  var fields = document.querySelectorAll("input[data-timezone]");
  for (var i = 0; i < fields.length; i++) {
    fields[i].value = zone;
  }
})();
