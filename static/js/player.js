// The player: hls.js on our own playlist URLs, native HLS where the browser has it (Safari).
// Remembers volume and mute; offers Auto plus each rendition; ends cleanly when a live
// stream goes offline instead of retrying forever.
(function () {
  "use strict";
  var VOLUME_KEY = "parti-site:volume";
  var MUTED_KEY = "parti-site:muted";
  var MAX_RECOVERIES = 3;

  function stored(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function store(key, value) {
    try { window.localStorage.setItem(key, String(value)); } catch (e) { /* private mode */ }
  }

  function rememberVolume(video) {
    var volume = parseFloat(stored(VOLUME_KEY));
    if (!isNaN(volume) && volume >= 0 && volume <= 1) video.volume = volume;
    var muted = stored(MUTED_KEY);
    if (muted !== null) video.muted = muted === "true";
    video.addEventListener("volumechange", function () {
      store(VOLUME_KEY, video.volume);
      store(MUTED_KEY, video.muted);
    });
  }

  function showStatus(player, text) {
    var status = player.querySelector("[data-player-status]");
    status.textContent = text;
    status.hidden = !text;
    player.classList.toggle("player-ended", Boolean(text));
  }

  function levelName(level) {
    if (level.height) return level.height + "p" + (level.frameRate > 31 ? Math.round(level.frameRate) : "");
    if (level.name) return String(level.name);
    return Math.round(level.bitrate / 1000) + " kbps";
  }

  function offerQualities(player, hls) {
    var select = player.querySelector("[data-quality]");
    var label = player.querySelector("[data-quality-label]");
    hls.levels.forEach(function (level, index) {
      var option = document.createElement("option");
      option.value = String(index);
      option.textContent = levelName(level);
      select.appendChild(option);
    });
    label.hidden = hls.levels.length < 2;
    var preferred = player.getAttribute("data-default-quality");
    if (preferred) {
      hls.levels.forEach(function (level, index) {
        if (levelName(level) === preferred) { hls.currentLevel = index; select.value = String(index); }
      });
    }
    select.addEventListener("change", function () {
      hls.currentLevel = parseInt(select.value, 10);
    });
  }

  function endedText(kind) {
    return kind === "live" ? "This stream has ended or is offline." : "This recording cannot be played.";
  }

  function playWithHls(player, video, src, kind) {
    var hls = new window.Hls({ lowLatencyMode: kind === "live", backBufferLength: 30 });
    var recoveries = 0;
    hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
      offerQualities(player, hls);
      if (kind === "live") video.play().catch(function () { /* autoplay refused: controls remain */ });
    });
    hls.on(window.Hls.Events.ERROR, function (event, data) {
      if (!data.fatal) return;
      var status = data.response && data.response.code;
      if (status === 404 || status === 410 || recoveries >= MAX_RECOVERIES) {
        hls.destroy();
        showStatus(player, endedText(kind));
        return;
      }
      recoveries += 1;
      if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else hls.startLoad();
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  }

  function start(player) {
    var video = player.querySelector("video");
    var src = player.getAttribute("data-src");
    var kind = player.getAttribute("data-kind");
    rememberVolume(video);
    if (window.Hls && window.Hls.isSupported()) {
      playWithHls(player, video, src, kind);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      video.addEventListener("error", function () { showStatus(player, endedText(kind)); });
    } else {
      showStatus(player, "This browser cannot play HLS here; use the external player link.");
    }
  }

  document.querySelectorAll("[data-player]").forEach(start);
})();
