// The therapy form: the ECT course fields (placement, sessions) are shown only for ECT.
// Without this script they stay visible, labelled "for ECT only"; the form ignores them for
// other therapies.
(function () {
  "use strict";
  const kind = document.querySelector("[data-therapy-kind]");
  const fields = document.querySelector("[data-ect-fields]");
  if (!kind || !fields) {
    return;
  }
  function update() {
    fields.hidden = kind.value !== "ect";
  }
  kind.addEventListener("change", update);
  update();
})();
