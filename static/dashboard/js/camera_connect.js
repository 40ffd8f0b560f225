/* Connect a camera, last step: poll the camera's status until its first frame has arrived,
 * then show that frame with the boxes the camera's filter kept. */
(function () {
  "use strict";
  const section = document.getElementById("first-frame");
  if (!section) return;
  const status = document.getElementById("first-status");
  const frame = document.getElementById("first-drawing");
  const image = frame.querySelector("img");
  const POLL_MS = 2000;

  async function poll() {
    let body = null;
    try {
      const response = await fetch(section.dataset.status, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) body = await response.json();
    } catch (err) {
      body = null; // a network blip: try again on the next tick
    }
    if (!body || !body.seen_at) {
      window.setTimeout(poll, POLL_MS);
      return;
    }
    image.addEventListener(
      "load",
      () => window.IPCAI.drawBoxes(frame, body.width, body.height, body.detections),
      { once: true }
    );
    image.src = body.frame_url;
    frame.hidden = false;
    const found = window.IPCAI.countLabels(body.detections);
    status.textContent = `Connected: first frame at ${utc(body.seen_at)}, ${
      found || "nothing detected"
    }.`;
    showStep(2);
  }

  // Every other time on the dashboard is UTC ("2026-12-05 09:27:39 UTC"), not the locale's.
  function utc(when) {
    return `${new Date(when).toISOString().slice(0, 19).replace("T", " ")} UTC`;
  }

  // The step indicator follows: the first frame arrived, so step 3 is where the user is.
  function showStep(index) {
    const steps = document.querySelectorAll("#connect-steps li");
    steps.forEach((step, i) => {
      if (i === index) step.setAttribute("aria-current", "step");
      else step.removeAttribute("aria-current");
    });
  }
  poll();
})();
