/* Draws detections over an image as an SVG overlay (Try it and the event page).
 * Coordinates are the image's own pixels (the API's `box: [x1, y1, x2, y2]`); the SVG's
 * viewBox is the image size, so the boxes follow the image at any display width. */
(function () {
  "use strict";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const COLOURS = { person: "#e63946", dog: "#1d78d8", cat: "#7c3aed" };

  function svgElement(name, attributes) {
    const element = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    return element;
  }

  function drawBoxes(frame, width, height, detections) {
    frame.querySelectorAll("svg").forEach((old) => old.remove());
    const svg = svgElement("svg", {
      viewBox: `0 0 ${width} ${height}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": `${detections.length} objects found`,
    });
    const fontSize = Math.max(12, Math.round(width / 40));
    for (const detection of detections) {
      const [x1, y1, x2, y2] = detection.box;
      const colour = COLOURS[detection.label] || "#f28c28";
      svg.appendChild(
        svgElement("rect", {
          class: "box",
          "data-label": detection.label,
          x: x1,
          y: y1,
          width: Math.max(0, x2 - x1),
          height: Math.max(0, y2 - y1),
          stroke: colour,
        })
      );
      const label = svgElement("text", { x: x1 + 4, y: Math.max(y1 - 6, fontSize) });
      label.style.fontSize = `${fontSize}px`;
      label.textContent = `${detection.label} ${Number(detection.score).toFixed(2)}`;
      svg.appendChild(label);
    }
    frame.appendChild(svg);
  }

  // Show a chosen file in an <img>, releasing the object URL of the file it showed before.
  const shownUrls = new WeakMap();
  function showFile(image, file) {
    if (shownUrls.has(image)) URL.revokeObjectURL(shownUrls.get(image));
    const url = URL.createObjectURL(file);
    shownUrls.set(image, url);
    return new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = () => reject(new Error("the browser cannot show this image"));
      image.src = url;
    });
  }

  // "3 × dog, 1 × cat" for a list of detections ("" for none).
  function countLabels(detections) {
    const counts = {};
    detections.forEach((d) => (counts[d.label] = (counts[d.label] || 0) + 1));
    return Object.entries(counts)
      .map(([label, n]) => `${n} \u00d7 ${label}`)
      .join(", ");
  }

  window.IPCAI = Object.assign(window.IPCAI || {}, { drawBoxes, showFile, countLabels });
})();
