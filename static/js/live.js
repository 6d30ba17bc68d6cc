/* Live updates over the site's own WebSocket (no build step, no inline script).
 *
 * Config: <body data-live-socket="/ws/live"> (or "/ws/watch/<user_id>" on watch pages).
 * Hooks it fills when present:
 *   [data-live-status]             a quiet "reconnecting…" while the socket is down
 *   [data-live-toasts]             "<creator> just went live: <title>" toasts (home, /live),
 *                                  each with data-toast-user; then a "parti:golive" event
 *                                  on document (detail: the channel) for follows.js
 *   [data-live-grid]               live cards: <article class="card card-live" data-user-id>
 *   [data-live-empty]              hidden once a card is inserted
 *   [data-ticker] [data-symbol=X]  [data-price], [data-move] and an is-up / is-down class
 *   [data-viewers]                 viewer counts ("short": just the number)
 *   [data-chat] [data-chat-lines]  the watch page's chat
 *   [data-as-of=part]              "as of HH:MM UTC" of a server-rendered snapshot (part:
 *                                  prices, live, viewers, chat); moved on as pushes arrive
 * Changed prices and viewer counts get class is-changed and data-change="up"|"down" (the
 * stylesheet flashes them).
 * Every text is set with textContent; payloads are data (parti_site/live/wire.py).
 */
(function () {
  "use strict";

  // Upstream text can be any length; a toast shows a readable part (the page has the rest).
  function clip(text, most) {
    text = String(text == null ? "" : text);
    return text.length > most ? text.slice(0, most - 1) + "\u2026" : text;
  }

  var body = document.body;
  var path = body && body.getAttribute("data-live-socket");
  if (!path || !("WebSocket" in window)) {
    return;
  }
  var watchMatch = /^\/ws\/watch\/(\d+)$/.exec(path);
  var watchedUser = watchMatch ? Number(watchMatch[1]) : null;
  var MIN_DELAY = 1000;
  var MAX_DELAY = 30000;
  var MAX_CHAT_LINES = 200;
  var MAX_TOASTS = 3;
  var TOAST_MS = 8000;
  var delay = MIN_DELAY;
  var chatSeen = {};

  // --- formatting, as the server's template filters do -----------------------------------

  var grouped0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  var grouped2 = new Intl.NumberFormat("en-US", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });

  function formatPrice(text) {
    var number = Number(text);
    if (text === null || text === undefined || text === "" || !isFinite(number)) {
      return "";
    }
    var size = Math.abs(number);
    if (size >= 1000) {
      return grouped0.format(number);
    }
    if (size >= 1 || size === 0) {
      return grouped2.format(number);
    }
    return number.toFixed(6).replace(/0+$/, "");
  }

  function compact(value) {
    if (typeof value !== "number" || !isFinite(value)) {
      return "";
    }
    var sign = value < 0 ? "-" : "";
    var size = Math.abs(Math.trunc(value));
    var units = [
      [1e9, "B"],
      [1e6, "M"],
      [1e3, "k"],
    ];
    for (var i = 0; i < units.length; i++) {
      if (size >= units[i][0]) {
        var scaled = size / units[i][0];
        if (Math.round(scaled * 10) / 10 >= 1000 && units[i][1] !== "B") {
          continue;
        }
        var text = scaled < 100 ? scaled.toFixed(1) : scaled.toFixed(0);
        return sign + text.replace(/\.0$/, "") + units[i][1];
      }
    }
    return sign + String(size);
  }

  // --- DOM helpers -------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function safeUrl(value) {
    // Only our own absolute paths ("/watch/1", "/img/<token>", "/static/...").
    return typeof value === "string" && /^\/(?!\/)/.test(value) ? value : null;
  }

  function flash(node, before, after) {
    if (typeof before !== "number" || !isFinite(before) || before === after) {
      return;
    }
    node.setAttribute("data-change", after > before ? "up" : "down");
    node.classList.remove("is-changed");
    void node.offsetWidth; // restart the stylesheet's animation
    node.classList.add("is-changed");
  }

  // --- "as of" times of the server-rendered snapshots ----------------------------------

  function touchAsOf(part) {
    var nodes = document.querySelectorAll('[data-as-of="' + part + '"]');
    if (!nodes.length) {
      return;
    }
    var now = new Date();
    var stamp = now.toISOString();
    for (var i = 0; i < nodes.length; i++) {
      var time = nodes[i].querySelector("time");
      if (time) {
        time.dateTime = stamp;
        time.textContent = stamp.slice(11, 16);
      }
    }
  }

  // --- status ------------------------------------------------------------------------------

  function setStatus(text) {
    body.setAttribute("data-live-state", text ? "reconnecting" : "open");
    var status = document.querySelector("[data-live-status]");
    if (!status) {
      return;
    }
    status.textContent = text;
    status.hidden = !text;
  }

  // --- go-live: toast and card -------------------------------------------------------------

  function toast(channel) {
    var box = document.querySelector("[data-live-toasts]");
    var href = safeUrl(channel.watch_url);
    if (!box || !href) {
      return;
    }
    var item = el("div", "toast");
    item.setAttribute("role", "status");
    item.setAttribute("data-toast-user", String(Number(channel.user_id)));
    var link = el("a", "toast-link", clip(channel.name, 80) + " just went live: " +
      clip(channel.title || "Untitled stream", 160));
    link.href = href;
    var close = el("button", "toast-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", function () {
      item.remove();
    });
    item.appendChild(link);
    item.appendChild(close);
    box.appendChild(item);
    while (box.children.length > MAX_TOASTS) {
      box.removeChild(box.firstElementChild);
    }
    window.setTimeout(function () {
      item.remove();
    }, TOAST_MS);
  }

  function shownCount(node) {
    var known = node.getAttribute("data-count");
    if (known === null) {
      var title = /^(\d+) viewers$/.exec(node.title || "");
      known = title ? title[1] : null;
    }
    return known === null ? null : Number(known);
  }

  function viewersText(node, count) {
    if (typeof count !== "number") {
      return;
    }
    var before = node.hidden ? null : shownCount(node);
    node.setAttribute("data-count", String(count));
    flash(node, before, count);
    node.textContent =
      node.getAttribute("data-viewers") === "short" ? compact(count) : compact(count) + " watching";
    node.title = count + " viewers";
    node.hidden = false;
  }

  function buildCard(channel) {
    var href = safeUrl(channel.watch_url);
    var card = el("article", "card card-live");
    card.setAttribute("data-user-id", String(channel.user_id));

    var media = el("a", "card-media");
    media.href = href;
    media.tabIndex = -1;
    media.setAttribute("aria-hidden", "true");
    var thumbUrl = safeUrl(channel.thumbnail);
    var thumb;
    if (thumbUrl) {
      thumb = el("img", "thumb");
      thumb.src = thumbUrl;
      thumb.alt = "Preview of “" + (channel.title || "untitled") + "”";
      thumb.loading = "lazy";
      thumb.decoding = "async";
      thumb.width = 320;
      thumb.height = 180;
    } else {
      thumb = el("span", "thumb thumb-empty");
      thumb.setAttribute("role", "img");
      thumb.setAttribute("aria-label", "No preview");
    }
    media.appendChild(thumb);
    media.appendChild(el("span", "badge badge-live", "Live"));
    card.appendChild(media);

    var cardBody = el("div", "card-body");
    var heading = el("h3", "card-title");
    var titleLink = el("a", null, channel.title || "Untitled stream");
    titleLink.href = href;
    heading.appendChild(titleLink);
    cardBody.appendChild(heading);

    var creator = el("a", "creator");
    creator.href = safeUrl(channel.profile_url) || href;
    var avatarUrl = safeUrl(channel.avatar);
    if (avatarUrl) {
      var avatar = el("img", "avatar");
      avatar.src = avatarUrl;
      avatar.alt = "Avatar of " + channel.name;
      avatar.width = 32;
      avatar.height = 32;
      avatar.loading = "lazy";
      avatar.decoding = "async";
      creator.appendChild(avatar);
    }
    creator.appendChild(el("span", "creator-name", channel.name));
    cardBody.appendChild(creator);

    var meta = el("p", "card-meta");
    var watching = el("span");
    watching.setAttribute("data-viewers", "");
    watching.hidden = true;
    viewersText(watching, channel.viewers);
    meta.appendChild(watching);
    if (channel.category) {
      meta.appendChild(document.createTextNode(" · " + channel.category));
    }
    cardBody.appendChild(meta);
    card.appendChild(cardBody);
    return card;
  }

  function findCard(grid, userId) {
    return grid.querySelector('[data-user-id="' + Number(userId) + '"]');
  }

  function upsertCard(channel, first) {
    if (!channel || typeof channel.user_id !== "number" || !safeUrl(channel.watch_url)) {
      return;
    }
    var grids = document.querySelectorAll("[data-live-grid]");
    for (var i = 0; i < grids.length; i++) {
      var existing = findCard(grids[i], channel.user_id);
      if (existing) {
        setViewers(existing, channel.viewers);
        continue;
      }
      var card = buildCard(channel);
      if (first) {
        grids[i].insertBefore(card, grids[i].firstElementChild);
      } else {
        grids[i].appendChild(card);
      }
      var empty = document.querySelectorAll("[data-live-empty]");
      for (var j = 0; j < empty.length; j++) {
        empty[j].hidden = true;
      }
    }
  }

  function setViewers(scope, count) {
    var nodes = scope.querySelectorAll("[data-viewers]");
    for (var i = 0; i < nodes.length; i++) {
      viewersText(nodes[i], count);
    }
  }

  function onViewers(data) {
    var cards = document.querySelectorAll('[data-user-id="' + Number(data.user_id) + '"]');
    for (var i = 0; i < cards.length; i++) {
      setViewers(cards[i], data.viewers);
    }
    if (watchedUser !== null && data.user_id === watchedUser) {
      var nodes = document.querySelectorAll("[data-viewers]");
      for (var j = 0; j < nodes.length; j++) {
        if (!nodes[j].closest("[data-user-id]")) {
          viewersText(nodes[j], data.viewers);
        }
      }
    }
  }

  // --- ticker ------------------------------------------------------------------------------

  function onPrices(rows) {
    var ticker = document.querySelector("[data-ticker]");
    if (!ticker || !Array.isArray(rows)) {
      return;
    }
    rows.forEach(function (row) {
      if (!row || typeof row.symbol !== "string") {
        return;
      }
      var item = null;
      var items = ticker.querySelectorAll("[data-symbol]");
      for (var i = 0; i < items.length; i++) {
        if (items[i].getAttribute("data-symbol") === row.symbol) {
          item = items[i];
        }
      }
      if (!item) {
        var list = ticker.querySelector("ul") || ticker;
        item = el("li", "ticker-item");
        item.setAttribute("data-symbol", row.symbol);
        item.appendChild(el("span", "ticker-symbol", row.symbol));
        var priceNode = el("span", "ticker-price");
        priceNode.setAttribute("data-price", "");
        item.appendChild(priceNode);
        var last = list.querySelector(".ticker-as-of");
        list.insertBefore(item, last && last.parentNode === list ? last : null);
      }
      var price = item.querySelector("[data-price]");
      if (price) {
        var text = formatPrice(row.price);
        if (text && price.textContent !== text) {
          var before = price.textContent ? Number(price.textContent.replace(/,/g, "")) : null;
          price.textContent = text;
          flash(item, before, Number(row.price));
        }
      }
      var direction = row.direction === "up" || row.direction === "down" ? row.direction : null;
      item.classList.toggle("is-up", direction === "up");
      item.classList.toggle("is-down", direction === "down");
      var move = item.querySelector("[data-move]");
      if (!move && direction) {
        move = el("span", "ticker-move");
        move.setAttribute("data-move", "");
        item.appendChild(move);
      }
      if (move) {
        move.textContent = "";
        move.hidden = !direction;
        if (direction) {
          var mark = el("span", null, direction === "up" ? "▲" : "▼");
          mark.setAttribute("aria-hidden", "true");
          move.appendChild(mark);
          move.appendChild(el("span", "visually-hidden", direction));
          move.appendChild(document.createTextNode(" " + formatPrice(row.price_diff)));
        }
      }
    });
  }

  // --- chat --------------------------------------------------------------------------------

  function chatList() {
    var chat = document.querySelector("[data-chat]");
    return chat && (chat.querySelector("[data-chat-lines]") || chat);
  }

  function chatLine(line) {
    var item = el("li", line.notice ? "chat-line chat-notice" : "chat-line");
    if (typeof line.chat_id === "number") {
      item.setAttribute("data-chat-id", String(line.chat_id));
    }
    if (line.time) {
      var when = new Date(line.time);
      if (!isNaN(when.getTime())) {
        var time = el(
          "time",
          "chat-time",
          when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        );
        time.dateTime = line.time;
        item.appendChild(time);
        item.appendChild(document.createTextNode(" "));
      }
    }
    if (!line.notice) {
      item.appendChild(el("span", "chat-user", line.user_name));
      item.appendChild(document.createTextNode(" "));
    }
    item.appendChild(el("span", "chat-text", line.text));
    return item;
  }

  function addChat(lines, replace) {
    var list = chatList();
    if (!list || !Array.isArray(lines)) {
      return;
    }
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (replace) {
      list.textContent = "";
      chatSeen = {};
    }
    lines.forEach(function (line) {
      if (!line || typeof line.text !== "string") {
        return;
      }
      if (typeof line.chat_id === "number") {
        if (chatSeen[line.chat_id]) {
          return;
        }
        chatSeen[line.chat_id] = true;
      }
      list.appendChild(chatLine(line));
    });
    while (list.children.length > MAX_CHAT_LINES) {
      list.removeChild(list.firstElementChild);
    }
    var empty = document.querySelector("[data-chat-empty]");
    if (empty) {
      empty.hidden = list.children.length > 0;
    }
    if (nearBottom || replace) {
      list.scrollTop = list.scrollHeight;
    }
  }

  // --- the socket --------------------------------------------------------------------------

  function handle(data) {
    if (!data || typeof data.kind !== "string") {
      return;
    }
    if (data.kind === "golive" && data.channel) {
      upsertCard(data.channel, true);
      toast(data.channel);
      // follows.js highlights the toast of a followed creator and may notify.
      document.dispatchEvent(new CustomEvent("parti:golive", { detail: data.channel }));
      touchGrid();
    } else if (data.kind === "live_list" && Array.isArray(data.channels)) {
      data.channels.forEach(function (channel) {
        upsertCard(channel, false);
      });
      touchGrid();
    } else if (data.kind === "viewers") {
      onViewers(data);
      if (data.user_id === watchedUser) {
        touchAsOf("viewers");
      }
    } else if (data.kind === "prices") {
      onPrices(data.prices);
      touchAsOf("prices");
    } else if (data.kind === "chat_history" && data.user_id === watchedUser) {
      if (!data.unavailable) {
        addChat(data.lines, true);
        touchAsOf("chat");
      }
    } else if (data.kind === "chat" && data.user_id === watchedUser) {
      addChat(data.lines, false);
      touchAsOf("chat");
    }
  }

  function touchGrid() {
    // Only the grids that pushes keep current (not a category's or a later page's).
    if (document.querySelector("[data-live-grid]")) {
      touchAsOf("live");
    }
  }

  function socketUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function connect() {
    var socket = new WebSocket(socketUrl());
    socket.onopen = function () {
      delay = MIN_DELAY;
      setStatus("");
    };
    socket.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      handle(data);
    };
    socket.onerror = function () {
      // onclose follows and schedules the reconnect.
    };
    socket.onclose = function () {
      setStatus("reconnecting…");
      var wait = delay / 2 + Math.random() * (delay / 2);
      delay = Math.min(MAX_DELAY, delay * 2);
      window.setTimeout(connect, wait);
    };
  }

  connect();
})();
