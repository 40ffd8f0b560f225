/* Small behaviours of the dashboard pages, each switched on by the markup it needs. */
(function () {
  "use strict";

  // Copy buttons: <button data-copy="element-id">.
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
      } catch (err) {
        // Clipboard API refused (not a secure context): select the text for Ctrl+C instead.
        const range = document.createRange();
        range.selectNodeContents(document.getElementById(button.dataset.copy));
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
      button.textContent = "Copied";
    });
  });

  // Tenant switcher: switch as soon as another tenant is picked.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });

  // Daily request charts: <canvas data-series="json-script-id">, stacked per service.
  const PALETTE = {
    "persons-detection": "#e63946",
    "pets-detection": "#1d78d8",
    "vehicles-detection": "#f28c28",
  };
  document.querySelectorAll("canvas[data-series]").forEach((canvas) => {
    const series = JSON.parse(document.getElementById(canvas.dataset.series).textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.days.map((day) => day.slice(5)),
        datasets: Object.entries(series.services).map(([service, counts]) => ({
          label: service,
          data: counts,
          backgroundColor: PALETTE[service] || "#8a94a6",
          stack: "requests",
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { position: "bottom" } },
      },
    });
  });

  // Archived event: boxes over the full image, from <script id="drawing"> JSON.
  const drawing = document.getElementById("drawing");
  const frame = document.getElementById("event-frame");
  if (drawing && frame) {
    const data = JSON.parse(drawing.textContent);
    const image = frame.querySelector("img");
    const draw = () =>
      window.IPCAI.drawBoxes(
        frame,
        data.width || image.naturalWidth,
        data.height || image.naturalHeight,
        data.detections
      );
    if (image.complete && image.naturalWidth) draw();
    else image.addEventListener("load", draw);
  }
})();
