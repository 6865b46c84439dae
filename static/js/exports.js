// Exports page: sizes the progress bars and polls unfinished jobs once a second.
// The Content-Security-Policy allows no inline style, so widths are set here.
(function () {
  "use strict";
  const FINISHED = ["done", "failed"];
  const POLL_MS = 1000;

  function setProgress(row, value) {
    const bar = row.querySelector(".progress-bar");
    if (!bar) return;
    bar.style.width = value + "%";
    bar.textContent = value + "%";
    bar.dataset.progress = String(value);
    bar.parentElement.setAttribute("aria-valuenow", String(value));
  }

  function showFile(row, job) {
    const cell = row.querySelector('[data-role="file"]');
    cell.textContent = "";
    if (job.download_url) {
      const link = document.createElement("a");
      link.href = job.download_url;
      link.setAttribute("download", "");
      link.textContent = "Download";
      cell.appendChild(link);
    } else {
      const span = document.createElement("span");
      span.className = "text-body-secondary";
      span.textContent = job.file_deleted ? "expired" : "—";
      cell.appendChild(span);
    }
  }

  function update(row, job) {
    row.dataset.status = job.status;
    const badge = row.querySelector('[data-role="status"]');
    badge.textContent = job.status;
    badge.className = "badge export-status status-" + job.status;
    row.querySelector('[data-role="error"]').textContent = job.error || "";
    setProgress(row, job.progress);
    if (FINISHED.includes(job.status)) {
      const bar = row.querySelector(".progress-bar");
      bar.classList.remove("progress-bar-striped", "progress-bar-animated");
      bar.classList.add(job.status === "done" ? "bg-success" : "bg-danger");
      showFile(row, job);
    }
  }

  function poll(row) {
    fetch(row.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (job) {
        update(row, job);
        if (!FINISHED.includes(job.status)) setTimeout(function () { poll(row); }, POLL_MS);
      })
      .catch(function () { setTimeout(function () { poll(row); }, POLL_MS * 5); });
  }

  document.querySelectorAll("#export-table tr[data-status-url]").forEach(function (row) {
    const bar = row.querySelector(".progress-bar");
    setProgress(row, parseInt(bar.dataset.progress, 10) || 0);
    if (!FINISHED.includes(row.dataset.status)) setTimeout(function () { poll(row); }, POLL_MS);
  });
})();
