// Tells the service that a person's browser shows this page. Link scanners and chat previews
// fetch the page without showing it, so this beacon, not the page fetch, counts as the open.
(function () {
  var script = document.currentScript;
  var url = script && script.getAttribute("data-beacon");
  if (!url) return;
  function report() {
    if (document.visibilityState !== "visible") return;
    document.removeEventListener("visibilitychange", report);
    if (!(navigator.sendBeacon && navigator.sendBeacon(url))) {
      fetch(url, { method: "POST", keepalive: true, credentials: "omit" }).catch(function () {});
    }
  }
  document.addEventListener("visibilitychange", report);
  report();
})();
