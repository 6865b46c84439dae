// The drug picker (treatments/widgets.py DrugPicker): turns the catalog <select> into a
// combobox following the WAI-ARIA 1.2 pattern, searching generic and brand names.
// The <select> stays the submitted field: it always holds the drug the text names exactly
// (generic or brand), the drug picked from the list, or nothing, so the form's own validation
// refuses text that names no drug. The ranking copies treatments/catalog.py search_drugs:
// exact, then prefix, then substring matches; within a rank by "common", then alphabetically.
(function () {
  "use strict";
  const EXACT = 0;
  const PREFIX = 1;
  const SUBSTRING = 2;

  function normalise(text) {
    return text.trim().toLowerCase().split(/\s+/).filter(Boolean).join(" ");
  }

  function matchDrug(wanted, drug) {
    let best = null;
    [drug.name].concat(drug.brands).forEach(function (name) {
      const candidate = normalise(name);
      let rank;
      if (candidate === wanted) {
        rank = EXACT;
      } else if (candidate.startsWith(wanted)) {
        rank = PREFIX;
      } else if (candidate.includes(wanted)) {
        rank = SUBSTRING;
      } else {
        return;
      }
      if (best === null || rank < best.rank) {
        best = { drug: drug, rank: rank, matched: name };
      }
    });
    return best;
  }

  function byCodePoint(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function search(text, drugs) {
    const wanted = normalise(text);
    return drugs
      .map(function (drug) { return matchDrug(wanted, drug); })
      .filter(Boolean)
      .sort(function (a, b) {
        return a.rank - b.rank || a.drug.common - b.drug.common ||
          byCodePoint(a.drug.name, b.drug.name);
      });
  }

  function named(match) {
    return match.matched === match.drug.name ? match.drug.name : match.matched + " → " + match.drug.name;
  }

  function details(drug) {
    const kind = drug.drug_class + (drug.is_antidepressant ? "" : " (not an antidepressant)");
    return [kind, drug.dose_hint].filter(Boolean).join(" · ");
  }

  function setUp(root) {
    const select = document.getElementById(root.dataset.drugPicker);
    const data = document.getElementById(root.dataset.drugPicker + "_catalog");
    if (!select || !data) {
      return;
    }
    const drugs = JSON.parse(data.textContent);
    const byId = new Map(drugs.map(function (drug) { return [drug.id, drug]; }));
    const input = root.querySelector("[role=combobox]");
    const listbox = root.querySelector("[role=listbox]");
    const choice = root.querySelector(".drug-picker-choice");
    const none = root.querySelector(".drug-picker-none");
    const status = root.querySelector("[role=status]");
    let matches = [];
    let active = -1;
    let driving = false;

    select.classList.add("visually-hidden");
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    root.hidden = false;
    document.querySelectorAll('label[for="' + CSS.escape(select.id) + '"]').forEach(function (label) {
      label.addEventListener("click", function (event) {
        event.preventDefault();
        input.focus();
      });
    });

    function setValue(id) {
      if (select.value === id) {
        return;
      }
      driving = true;
      select.value = id;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      driving = false;
    }

    function showChoice() {
      const drug = byId.get(select.value);
      if (drug) {
        const match = matchDrug(normalise(input.value), drug);
        const shown = match && match.rank === EXACT ? match : { drug: drug, matched: drug.name };
        choice.textContent = "Chosen: " + named(shown) + " · " + details(drug);
      } else {
        choice.textContent = normalise(input.value) ? "No drug chosen yet: pick one from the list." : "";
      }
    }

    function setActive(index) {
      const previous = listbox.querySelector("[aria-selected=true]");
      if (previous) {
        previous.setAttribute("aria-selected", "false");
      }
      active = index;
      const option = index >= 0 ? listbox.children[index] : null;
      if (!option) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    function close() {
      setActive(-1);
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function option(match, index) {
      const item = document.createElement("li");
      item.id = listbox.id + "-" + match.drug.id;
      item.className = "list-group-item drug-picker-option";
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      const name = document.createElement("span");
      name.className = "drug-picker-name";
      const brands = match.drug.brands.length ? " (" + match.drug.brands.join(", ") + ")" : "";
      name.textContent = named(match) + (match.matched === match.drug.name ? brands : "");
      const more = document.createElement("span");
      more.className = "drug-picker-details";
      more.textContent = details(match.drug);
      item.append(name, " ", more);
      item.addEventListener("click", function () { choose(index); });
      return item;
    }

    function announce(text) {
      status.textContent = text;
    }

    // Shows the drugs matching the text (the whole catalog for no text); false if none match.
    function showList() {
      matches = search(input.value, drugs);
      listbox.replaceChildren.apply(listbox, matches.map(option));
      if (!matches.length) {
        close();
        choice.textContent = "";
        none.textContent = "No drug matches '" + input.value.trim() + "'";
        none.hidden = false;
        announce(none.textContent + ".");
        return false;
      }
      none.hidden = true;
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      const count = matches.length;
      announce(count + (count === 1 ? " drug matches" : " drugs match") +
        "; the up and down arrow keys move through them, Enter chooses.");
      return true;
    }

    function choose(index) {
      const drug = matches[index].drug;
      input.value = drug.name;
      setValue(drug.id);
      showChoice();
      close();
      announce(drug.name + " chosen.");
    }

    input.addEventListener("input", function () {
      const results = search(input.value, drugs);
      setValue(results.length && results[0].rank === EXACT ? results[0].drug.id : "");
      showChoice();
      if (!normalise(input.value)) {
        close();
        none.hidden = true;
        announce("");
        return;
      }
      if (showList()) {
        setActive(0);
      }
    });

    input.addEventListener("keydown", function (event) {
      const open = !listbox.hidden;
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!open) {
            if (showList() && !event.altKey) {
              setActive(0);
            }
          } else {
            setActive(Math.min(active + 1, matches.length - 1));
          }
          break;
        case "ArrowUp":
          event.preventDefault();
          if (!open) {
            if (showList()) {
              setActive(matches.length - 1);
            }
          } else {
            setActive(Math.max(active - 1, 0));
          }
          break;
        case "Home":
        case "End":
          if (open) {
            event.preventDefault();
            setActive(event.key === "Home" ? 0 : matches.length - 1);
          }
          break;
        case "Enter":
          if (open) {
            event.preventDefault(); // choosing, not submitting the form
            if (active >= 0) {
              choose(active);
            }
          }
          break;
        case "Escape":
          if (open) {
            event.preventDefault();
            close();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            input.dispatchEvent(new Event("input"));
          }
          break;
        default:
          break;
      }
    });

    input.addEventListener("click", function () {
      if (listbox.hidden) {
        showList();
      }
    });
    input.addEventListener("blur", close);
    // Keeps the focus in the box while an option or the list's scroll bar is pressed.
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });

    // Someone set the select directly (another script, a test, the browser restoring a form).
    select.addEventListener("change", function () {
      if (driving) {
        return;
      }
      const drug = byId.get(select.value);
      input.value = drug ? drug.name : "";
      none.hidden = true;
      close();
      showChoice();
    });

    const initial = byId.get(select.value);
    input.value = initial ? initial.name : "";
    showChoice();
  }

  document.querySelectorAll("[data-drug-picker]").forEach(setUp);
})();
