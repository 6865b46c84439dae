// The trial form's formulation select (treatments/forms.py TrialForm): only the chosen drug's
// formulations are offered, the field is hidden for drugs without any, and the dose hint
// follows the formulation's own figures. Trial.clean() checks the same rule on the server.
(function () {
  "use strict";
  const data = document.getElementById("formulation-options");
  const formulation = document.querySelector("[data-formulation-select]");
  const drug = document.querySelector("[data-dose-hint-target]");
  const wrapper = document.querySelector("[data-formulation-field]");
  const hint = document.getElementById("dose-hint");
  if (!data || !formulation || !drug || !wrapper) {
    return;
  }
  const options = JSON.parse(data.textContent);
  const standardHints = JSON.parse(document.getElementById("dose-hints").textContent);

  function update() {
    const offered = options[drug.value] || [];
    const keys = offered.map(function (item) { return item.key; });
    Array.prototype.forEach.call(formulation.options, function (option) {
      const allowed = option.value === "" || keys.indexOf(option.value) !== -1;
      option.hidden = !allowed;
      option.disabled = !allowed;
    });
    if (keys.indexOf(formulation.value) === -1) {
      formulation.value = "";
    }
    wrapper.hidden = keys.length === 0;
    if (hint) {
      const chosen = offered.find(function (item) { return item.key === formulation.value; });
      hint.textContent = chosen ? chosen.hint : standardHints[drug.value] || "";
    }
  }

  drug.addEventListener("change", update);
  formulation.addEventListener("change", update);
  update();
})();
