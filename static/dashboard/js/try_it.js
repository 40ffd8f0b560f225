/* Try it: send the chosen image to the native detection endpoint (signed in by session,
 * CSRF-protected) exactly as a camera sends it (the raw image body), then draw the answer. */
(function () {
  "use strict";
  const form = document.getElementById("try-form");
  if (!form) return;
  const fileInput = document.getElementById("try-image");
  const serviceSelect = document.getElementById("try-service");
  const confidence = document.getElementById("try-confidence");
  const submit = form.querySelector("button[type=submit]");
  const status = document.getElementById("try-status");
  const result = document.getElementById("try-result");
  const frame = document.getElementById("try-frame");
  const image = frame.querySelector("img");
  const output = document.getElementById("try-json");
  const csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const IMAGE_TYPES = ["image/jpeg", "image/png"];
  const CHOOSE_IMAGE = "Choose a JPEG or PNG image.";

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!file) {
      status.textContent = "Choose an image first.";
      return;
    }
    // A camera's API error (Content-Type ...; send image/jpeg, ...) means nothing to a person
    // who picked a file: say what to pick instead, before sending anything.
    if (!IMAGE_TYPES.includes(file.type)) {
      result.hidden = true;
      status.textContent = `${file.name} is not an image the service reads. ${CHOOSE_IMAGE}`;
      return;
    }
    const url = new URL(
      form.dataset.api.replace("SERVICE", encodeURIComponent(serviceSelect.value)),
      window.location.origin
    );
    if (confidence.value) url.searchParams.set("min_confidence", confidence.value);
    submit.disabled = true;
    status.textContent = "Detecting…";
    try {
      const response = await fetch(url, {
        method: "POST",
        body: file,
        credentials: "same-origin",
        headers: {
          "Content-Type": file.type || "application/octet-stream",
          "X-CSRFToken": csrfToken,
          Accept: "application/json",
        },
      });
      const body = await response.json();
      output.textContent = JSON.stringify(body, null, 2);
      result.hidden = false;
      if (!response.ok) {
        frame.hidden = true;
        status.textContent =
          response.status === 415
            ? CHOOSE_IMAGE
            : `Error ${response.status}: ${body.error ? body.error.message : ""}`;
        return;
      }
      await window.IPCAI.showFile(image, file);
      frame.hidden = false;
      window.IPCAI.drawBoxes(frame, body.width, body.height, body.detections);
      const found = window.IPCAI.countLabels(body.detections);
      status.textContent = `Found ${found || "nothing"} in ${Math.round(
        body.timings_ms.portal_total
      )} ms (${body.model}).`;
    } catch (err) {
      status.textContent = `The request failed: ${err.message}`;
    } finally {
      submit.disabled = false;
    }
  });
})();
