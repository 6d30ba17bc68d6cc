/* Times in the visitor's own zone, without a round trip:
   - remember the browser's zone in the `tz` cookie, so the server renders in it next time;
   - rewrite <time data-local="time|datetime|date"> elements to that zone now, when the
     page was rendered in another one (it says which in <html data-tz>). */
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) return;

  var match = document.cookie.match(/(?:^|;\s*)tz=([^;]*)/);
  if (!match || decodeURIComponent(match[1]) !== zone) {
    document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
  }

  if (document.documentElement.getAttribute("data-tz") === zone) return;

  var formats = {
    // 24-hour HH:MM, as the server renders them ("H:i"), whatever the browser's locale.
    time: { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
    datetime: {
      weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23"
    },
    date: { weekday: "long", day: "numeric", month: "long", year: "numeric" }
  };
  var elements = document.querySelectorAll("time[data-local][datetime]");
  for (var i = 0; i < elements.length; i++) {
    var element = elements[i];
    var when = new Date(element.getAttribute("datetime"));
    if (isNaN(when.getTime())) continue;
    var options = formats[element.getAttribute("data-local")] || formats.datetime;
    options.timeZone = zone;
    try {
      element.textContent = new Intl.DateTimeFormat(undefined, options).format(when);
      element.title = when.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    } catch (e) {
      return;
    }
  }
  var names = document.querySelectorAll("[data-tz-name]");
  for (var j = 0; j < names.length; j++) names[j].textContent = zone;
})();
