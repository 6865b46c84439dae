// Warns before the practice's idle timeout signs the user out (accounts.middleware), and offers
// "Stay signed in", which asks the server to restart its idle clock. Typing in the page never
// does that by itself: only a request does, and the server decides. Tabs of the same browser
// share the server's clock as of the last page load or keep-alive through localStorage.
(function () {
  "use strict";
  const root = document.getElementById("session-timeout");
  if (!root) {
    return;
  }
  const STORAGE_KEY = "trdtracker.session.lastActivity";
  const warnSeconds = parseInt(root.dataset.warnSeconds, 10) || 120;
  let idleSeconds = (parseInt(root.dataset.idleMinutes, 10) || 0) * 60;
  if (idleSeconds <= warnSeconds) {
    return;
  }
  // The server stores its idle clock at most once a minute: it started this many seconds
  // before this page's request, and the countdown starts from there.
  const elapsedSeconds = parseInt(root.dataset.idleElapsed, 10) || 0;
  let lastActivity = Date.now() - elapsedSeconds * 1000;
  let state = "idle"; // idle | warning | expired
  let returnFocusTo = null;
  let asking = false; // a keep-alive request is on its way

  function remember(time) {
    lastActivity = Math.max(lastActivity, time);
    try {
      window.localStorage.setItem(STORAGE_KEY, String(lastActivity));
    } catch (error) {
      // Storage may be unavailable (private mode): each tab then keeps its own time.
    }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  // The dialog: a non-modal alert dialog in a corner of the page.
  const dialog = element("div", "session-timeout card border-warning shadow");
  dialog.setAttribute("role", "alertdialog");
  dialog.setAttribute("aria-labelledby", "session-timeout-title");
  dialog.setAttribute("aria-describedby", "session-timeout-message session-timeout-detail");
  dialog.tabIndex = -1;
  const body = element("div", "card-body");
  const title = element("h2", "h6 card-title fw-semibold", "Session ending");
  title.id = "session-timeout-title";
  const message = element("p", "mb-2");
  message.id = "session-timeout-message";
  message.setAttribute("aria-live", "assertive");
  const detail = element("p", "small text-body-secondary mb-3");
  detail.id = "session-timeout-detail";
  const countdown = element("span", "fw-semibold font-monospace");
  countdown.setAttribute("role", "timer");
  const stay = element("button", "btn btn-primary btn-sm", "Stay signed in");
  stay.type = "button";
  const close = element("button", "btn btn-outline-secondary btn-sm", "Close");
  close.type = "button";
  body.append(title, message, detail, stay, close);
  dialog.append(body);
  root.append(dialog);

  function minutesText(seconds) {
    const minutes = Math.round(seconds / 60);
    return minutes === 1 ? "1 minute" : minutes + " minutes";
  }

  function clock(seconds) {
    const rest = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function showWarning() {
    title.textContent = "Session ending";
    message.textContent =
      "You will be signed out in " + minutesText(warnSeconds) + " for inactivity.";
    detail.replaceChildren(
      "Time left: ", countdown,
      ". Typing does not keep you signed in; saving or this button does."
    );
    stay.hidden = false;
    close.hidden = true;
    root.hidden = false;
    returnFocusTo = document.activeElement;
    stay.focus();
  }

  function showExpired() {
    const focusInside = root.contains(document.activeElement);
    title.textContent = "Signed out";
    message.textContent = "You have been signed out for inactivity.";
    detail.textContent =
      "If you were filling in a form, press its Save button: after you sign in again " +
      "it is shown filled in for you to check and save.";
    stay.hidden = true;
    close.hidden = false;
    root.hidden = false;
    if (focusInside) {
      close.focus();
    }
  }

  function hide() {
    const hadFocus = root.contains(document.activeElement);
    root.hidden = true;
    if (hadFocus && returnFocusTo && document.contains(returnFocusTo)) {
      returnFocusTo.focus();
    }
    returnFocusTo = null;
  }

  function tick() {
    const left = Math.ceil((lastActivity + idleSeconds * 1000 - Date.now()) / 1000);
    let next = "idle";
    if (left <= 0) {
      next = "expired";
    } else if (left <= warnSeconds) {
      next = "warning";
    }
    if (next === "warning") {
      if (state !== "warning") {
        showWarning();
      }
      countdown.textContent = clock(left);
    } else if (next === "expired" && state !== "expired") {
      showExpired();
    } else if (next === "idle" && state !== "idle") {
      hide();
    }
    state = next;
  }

  function keepAlive() {
    if (asking) {
      return;
    }
    asking = true;
    stay.setAttribute("aria-disabled", "true");
    fetch(root.dataset.keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // a redirect means the server has signed us out
      headers: { "X-CSRFToken": root.dataset.csrfToken },
    })
      .then(function (response) {
        if (response.status !== 204) {
          lastActivity = 0;
          tick();
          return;
        }
        const seconds = parseInt(response.headers.get("X-Session-Seconds-Left"), 10);
        if (seconds > warnSeconds) {
          idleSeconds = seconds;
        }
        remember(Date.now());
        tick();
      })
      .catch(function () {
        detail.textContent =
          "The server could not be reached. Check the connection and try again.";
      })
      .finally(function () {
        asking = false;
        stay.removeAttribute("aria-disabled");
      });
  }

  stay.addEventListener("click", keepAlive);
  close.addEventListener("click", function () {
    hide();
  });
  window.addEventListener("storage", function (event) {
    if (event.key === STORAGE_KEY && event.newValue) {
      lastActivity = Math.max(lastActivity, parseInt(event.newValue, 10) || 0);
      tick();
    }
  });
  remember(lastActivity); // the server's clock as this page's request left it
  window.setInterval(tick, 1000);
})();
