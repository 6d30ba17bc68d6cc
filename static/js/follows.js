/* Follows in the browser (no build step, no inline script).
 *
 * The follow list is the `follows` cookie the server sets on Follow / Unfollow (user ids in
 * base 36 joined by "."; parti_site/pages/follows.py). This script only reads it:
 *   - live.js fires "parti:golive" on document (detail: the channel payload) after it
 *     showed a toast; for a followed creator the toast ([data-toast-user=id]) is marked
 *     toast-followed, and with notifications turned on a browser notification is shown.
 *   - [data-follow-notify] (on /following): the opt-in button for those notifications,
 *     remembered in this browser's localStorage ("parti-site:notify" = "on"). They only
 *     come while a tab of this site is open: there is no push service and no server record.
 */
(function () {
  "use strict";

  var NOTIFY_KEY = "parti-site:notify";

  function followed() {
    var match = /(?:^|;\s*)follows=([0-9a-z.]*)/.exec(document.cookie);
    var ids = {};
    if (match) {
      match[1].split(".").forEach(function (part) {
        var number = parseInt(part, 36);
        if (part && isFinite(number) && number > 0) {
          ids[number] = true;
        }
      });
    }
    return ids;
  }

  function safeUrl(value) {
    return typeof value === "string" && /^\/(?!\/)/.test(value) ? value : null;
  }

  function storedNotify() {
    try {
      return window.localStorage.getItem(NOTIFY_KEY) === "on";
    } catch (error) {
      return false;
    }
  }

  function storeNotify(on) {
    try {
      if (on) {
        window.localStorage.setItem(NOTIFY_KEY, "on");
      } else {
        window.localStorage.removeItem(NOTIFY_KEY);
      }
    } catch (error) {
      /* storage refused: notifications stay off */
    }
  }

  function canNotify() {
    return "Notification" in window;
  }

  function notify(channel) {
    if (!canNotify() || !storedNotify() || Notification.permission !== "granted") {
      return;
    }
    var name = typeof channel.name === "string" ? channel.name : "A creator you follow";
    var title = typeof channel.title === "string" && channel.title ? channel.title : "Untitled stream";
    var note = new Notification(name + " is live", {
      body: title,
      tag: "parti-golive-" + Number(channel.user_id),
    });
    var href = safeUrl(channel.watch_url);
    note.onclick = function () {
      window.focus();
      if (href) {
        window.location.href = href;
      }
      note.close();
    };
  }

  document.addEventListener("parti:golive", function (event) {
    var channel = event.detail;
    if (!channel || typeof channel.user_id !== "number" || !followed()[channel.user_id]) {
      return;
    }
    var toasts = document.querySelectorAll('[data-toast-user="' + Number(channel.user_id) + '"]');
    for (var i = 0; i < toasts.length; i++) {
      if (!toasts[i].classList.contains("toast-followed")) {
        toasts[i].classList.add("toast-followed");
        var badge = document.createElement("span");
        badge.className = "toast-badge";
        badge.textContent = "Following";
        toasts[i].insertBefore(badge, toasts[i].firstChild);
      }
    }
    notify(channel);
  });

  // --- the opt-in on /following ------------------------------------------------------------

  var box = document.querySelector("[data-follow-notify]");
  if (!box || !canNotify()) {
    return;
  }
  var button = box.querySelector("[data-follow-notify-button]");
  var state = box.querySelector("[data-follow-notify-state]");

  function show() {
    var on = storedNotify() && Notification.permission === "granted";
    button.textContent = on ? "Stop go-live notifications" : "Notify me when they go live";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    if (Notification.permission === "denied") {
      state.textContent = "This browser blocks notifications from this site; its site settings can allow them.";
    } else {
      state.textContent = on
        ? "On, while a tab of this site is open. Nothing is sent anywhere."
        : "While a tab of this site is open; nothing is sent anywhere.";
    }
  }

  button.addEventListener("click", function () {
    if (storedNotify() && Notification.permission === "granted") {
      storeNotify(false);
      show();
      return;
    }
    Promise.resolve(Notification.requestPermission()).then(function (answer) {
      storeNotify(answer === "granted");
      show();
    });
  });
  box.hidden = false;
  show();
})();
