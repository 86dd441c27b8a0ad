(function () {
  "use strict";
  // a link to a host opens its section
  function openTarget() {
    var target = null;
    try {
      target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    } catch (malformed) {
      return;
    }
    if (target && target.tagName === "DETAILS" && !target.open) {
      target.open = true;
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  var box = document.getElementById("host-filter");
  var count = document.getElementById("host-filter-count");
  var rows = document.querySelectorAll("#host-table .row:not(.head)");
  var words = JSON.parse(document.getElementById("host-index").textContent);
  if (!box || rows.length !== words.length) {
    return;
  }
  function apply() {
    var wanted = box.value.toLowerCase().split(/\s+/).filter(function (word) { return word; });
    var matching = 0;
    for (var i = 0; i < rows.length; i++) {
      var match = wanted.every(function (word) { return words[i].indexOf(word) !== -1; });
      rows[i].classList.toggle("out", !match);
      matching += match ? 1 : 0;
    }
    count.textContent = wanted.length ? matching + " of " + rows.length + " hosts match" : "";
  }
  box.hidden = false;
  box.addEventListener("input", apply);
  apply();
})();
