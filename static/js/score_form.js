// Shows the nine PHQ-9 item selects only when PHQ-9 is chosen. The server validates either way.
(function () {
  "use strict";
  const scale = document.querySelector("[data-score-scale]");
  const items = document.getElementById("phq9-items");
  if (!scale || !items) {
    return;
  }
  function toggle() {
    const phq9 = scale.value === "phq9";
    items.hidden = !phq9 && scale.value !== "";
  }
  scale.addEventListener("change", toggle);
  toggle();
})();
