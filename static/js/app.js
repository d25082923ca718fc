// Tell the server the reader's time zone, so times are shown in it
// (quest/middleware.py reads the cookie). The very first page a browser sees
// is in UTC; every page after it is in the reader's zone.
(function () {
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) return;
  var current = document.cookie.match(/(?:^|;\s*)tz=([^;]*)/);
  if (current && decodeURIComponent(current[1]) === zone) return;
  document.cookie =
    "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
})();

// htmx leaves error responses unswapped; a 429 carries a message saying when to
// try again (quest/ratelimit.py), which belongs where the answer would have gone.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 429) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
