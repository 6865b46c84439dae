// Shows the catalog's adequate dose beside the dose field, and adds dose-change rows.
(function () {
  "use strict";
  const hints = JSON.parse(document.getElementById("dose-hints").textContent);
  const select = document.querySelector("[data-dose-hint-target]");
  const hint = document.getElementById("dose-hint");
  function showHint() {
    hint.textContent = hints[select.value] || "";
  }
  if (select && hint) {
    select.addEventListener("change", showHint);
    showHint();
  }

  const addButton = document.getElementById("add-dose-row");
  const template = document.getElementById("dose-row-template");
  const total = document.getElementById("id_doses-TOTAL_FORMS");
  const body = document.querySelector("#dose-changes tbody");
  if (addButton && template && total && body) {
    addButton.addEventListener("click", function () {
      const index = parseInt(total.value, 10);
      const html = template.innerHTML.replace(/__prefix__/g, String(index));
      body.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
    });
  }
})();
