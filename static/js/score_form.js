// The score form: the PHQ-9 rows only for PHQ-9, its total shown as the items are answered,
// and digits 0–3 answer the focused row and move to the next. The server validates either way.
(function () {
  "use strict";
  const scale = document.querySelector("[data-score-scale]");
  const items = document.getElementById("phq9-items");
  const total = document.getElementById("phq9-total");
  if (!scale || !items) {
    return;
  }
  const rows = Array.from(items.querySelectorAll("[data-phq9-row]"));

  const totalField = document.getElementById("score-total");

  function toggle() {
    items.hidden = scale.value !== "phq9" && scale.value !== "";
    if (totalField) {
      totalField.hidden = scale.value === "phq9";  // its total is the live sum below
    }
  }

  function showTotal() {
    const answers = rows.map(function (row) {
      const checked = row.querySelector("input:checked");
      return checked ? Number(checked.value) : null;
    });
    const answered = answers.filter(function (value) { return value !== null; });
    const sum = answered.reduce(function (a, b) { return a + b; }, 0);
    total.textContent = answered.length === rows.length
      ? String(sum)
      : sum + " so far (" + answered.length + " of " + rows.length + " answered)";
  }

  items.addEventListener("keydown", function (event) {
    if (!/^[0-3]$/.test(event.key)) {
      return;
    }
    const row = event.target.closest("[data-phq9-row]");
    if (!row) {
      return;
    }
    event.preventDefault();
    const radio = row.querySelector('input[value="' + event.key + '"]');
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    const next = rows[rows.indexOf(row) + 1];
    if (next) {
      (next.querySelector("input:checked") || next.querySelector("input")).focus();
    } else {
      radio.focus();
    }
  });
  items.addEventListener("change", showTotal);
  scale.addEventListener("change", toggle);
  toggle();
  showTotal();
})();
