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

// htmx leaves error responses unswapped; a 429 (quest/ratelimit.py) and a 503
// (quest/middleware.py: the database is not answering) carry a message saying
// when to try again, which belongs where the answer would have gone. Both come
// with HX-Reswap: innerHTML, so a polling element stays and polls on.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 429 || status === 503) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
