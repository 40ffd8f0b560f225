/* A camera's page: the zone editor and the "test with this image" panel.
 *
 * Zones are polygons in normalised coordinates (0..1 of the image width and height), drawn as
 * an SVG over the background picture (viewBox 0 0 1 1, stretched to the picture); corners are
 * HTML handles positioned in percent, so they stay round at any aspect ratio and are easy to
 * grab. Click the picture to add a corner to the zone being drawn, drag a corner to move it.
 * Save posts {"zones": [...]} as JSON; the server checks them with the API's rules. */
(function () {
  "use strict";
  const dataElement = document.getElementById("camera-editor");
  const stage = document.getElementById("zone-stage");
  if (!dataElement || !stage) return;
  const data = JSON.parse(dataElement.textContent);
  const canManage = document.getElementById("camera-script").dataset.canManage === "1";
  const csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  const csrfToken = csrfInput ? csrfInput.value : "";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const ZONE_COLOURS = { include: "#2e7d32", mask: "#c62828" };

  const list = document.getElementById("zone-list");
  const status = document.getElementById("zone-status");
  const addButton = document.getElementById("zone-add");
  const finishButton = document.getElementById("zone-finish");
  const saveButton = document.getElementById("zone-save");

  let zones = data.zones.map((z) => ({ ...z, points: z.points.map((p) => [...p]), classes: [...(z.classes || [])] }));
  let selected = zones.length ? 0 : -1;
  let drawing = false;
  let dragging = null; // {zone, point}

  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 1 1");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "zone-svg");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Zones drawn over the camera picture");
  stage.appendChild(svg);
  const handles = document.createElement("div");
  handles.className = "zone-handles";
  stage.appendChild(handles);

  function element(name, attributes) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    return node;
  }

  function normalised(event) {
    const rect = stage.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return [
      Math.round(clamp((event.clientX - rect.left) / rect.width) * 100000) / 100000,
      Math.round(clamp((event.clientY - rect.top) / rect.height) * 100000) / 100000,
    ];
  }

  function say(text) {
    status.textContent = text;
  }

  function render() {
    svg.replaceChildren();
    handles.replaceChildren();
    zones.forEach((zone, index) => {
      const colour = ZONE_COLOURS[zone.kind] || "#555";
      const points = zone.points.map(([x, y]) => `${x},${y}`).join(" ");
      const shape = element(zone.points.length >= 3 && !(drawing && index === selected) ? "polygon" : "polyline", {
        points,
        class: `zone ${zone.kind}${index === selected ? " selected" : ""}`,
        "data-zone": zone.name,
        stroke: colour,
        fill: colour,
      });
      shape.addEventListener("mousedown", (event) => {
        if (drawing) return;
        event.stopPropagation();
        selected = index;
        render();
      });
      svg.appendChild(shape);
      if (index !== selected || !canManage) return;
      zone.points.forEach(([x, y], pointIndex) => {
        const handle = document.createElement("span");
        handle.className = "zone-handle";
        handle.style.left = `${x * 100}%`;
        handle.style.top = `${y * 100}%`;
        handle.title = `Corner ${pointIndex + 1} of ${zone.name}: drag to move, double-click to remove`;
        handle.addEventListener("mousedown", (event) => {
          event.preventDefault();
          event.stopPropagation();
          dragging = { zone: index, point: pointIndex };
        });
        handle.addEventListener("dblclick", (event) => {
          event.stopPropagation();
          if (zone.points.length <= 3) {
            say("A zone needs at least 3 corners.");
            return;
          }
          zone.points.splice(pointIndex, 1);
          render();
          say("Corner removed; save to apply.");
        });
        handles.appendChild(handle);
      });
    });
    renderList();
    if (finishButton) finishButton.hidden = !drawing;
    if (addButton) addButton.disabled = drawing || zones.length >= data.max_zones;
  }

  function field(labelText, control) {
    const wrapper = document.createElement("label");
    wrapper.className = "zone-field";
    wrapper.append(labelText, control);
    return wrapper;
  }

  function renderList() {
    list.replaceChildren();
    if (!zones.length) {
      const empty = document.createElement("li");
      empty.className = "muted small";
      empty.textContent = "No zones: every detection counts.";
      list.appendChild(empty);
    }
    zones.forEach((zone, index) => {
      const item = document.createElement("li");
      item.className = `zone-item${index === selected ? " selected" : ""}`;
      item.dataset.zone = zone.name;
      const name = document.createElement("input");
      name.value = zone.name;
      name.maxLength = 40;
      name.disabled = !canManage;
      name.addEventListener("change", () => {
        zone.name = name.value.trim();
        render();
      });
      item.appendChild(field("Zone name", name));
      const kind = document.createElement("select");
      kind.disabled = !canManage;
      for (const value of data.kinds) {
        const option = new Option(value, value, false, value === zone.kind);
        kind.appendChild(option);
      }
      kind.addEventListener("change", () => {
        zone.kind = kind.value;
        render();
      });
      item.appendChild(field("Kind", kind));
      const classes = document.createElement("fieldset");
      classes.className = "zone-classes";
      const legend = document.createElement("legend");
      legend.textContent = "Classes (none ticked: all)";
      classes.appendChild(legend);
      for (const label of data.labels) {
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = label;
        box.checked = zone.classes.includes(label);
        box.disabled = !canManage;
        box.addEventListener("change", () => {
          zone.classes = box.checked ? [...zone.classes, label] : zone.classes.filter((c) => c !== label);
        });
        classes.appendChild(field(label, box));
      }
      item.appendChild(classes);
      const info = document.createElement("p");
      info.className = "small muted";
      info.textContent = `${zone.points.length} corners`;
      item.appendChild(info);
      if (canManage) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary";
        remove.textContent = `Delete ${zone.name}`;
        remove.addEventListener("click", () => {
          zones.splice(index, 1);
          selected = Math.min(selected, zones.length - 1);
          drawing = false;
          render();
          say("Zone deleted; save to apply.");
        });
        item.appendChild(remove);
      }
      item.addEventListener("click", (event) => {
        if (event.target.closest("input, select, button, label")) return;
        selected = index;
        render();
      });
      list.appendChild(item);
    });
  }

  if (canManage) {
    stage.addEventListener("mousedown", (event) => {
      if (!drawing || selected < 0 || event.button !== 0) return;
      const zone = zones[selected];
      if (zone.points.length >= data.max_points) {
        say(`A zone has at most ${data.max_points} corners.`);
        return;
      }
      zone.points.push(normalised(event));
      render();
      say(`${zone.points.length} corners; click to add more, then Finish zone.`);
    });
    document.addEventListener("mousemove", (event) => {
      if (!dragging) return;
      zones[dragging.zone].points[dragging.point] = normalised(event);
      render();
    });
    document.addEventListener("mouseup", () => {
      if (dragging) say("Corner moved; save to apply.");
      dragging = null;
    });
    addButton.addEventListener("click", () => {
      let n = zones.length + 1;
      while (zones.some((z) => z.name === `zone ${n}`)) n += 1;
      zones.push({ name: `zone ${n}`, kind: "include", points: [], classes: [] });
      selected = zones.length - 1;
      drawing = true;
      render();
      say("Click on the picture to place the zone's corners.");
    });
    finishButton.addEventListener("click", () => {
      if (zones[selected].points.length < 3) {
        say("A zone needs at least 3 corners.");
        return;
      }
      drawing = false;
      render();
      say("Zone finished; save to apply.");
    });
    saveButton.addEventListener("click", async () => {
      if (drawing) {
        say("Finish the zone you are drawing first.");
        return;
      }
      saveButton.disabled = true;
      try {
        const response = await fetch(data.save_url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
          body: JSON.stringify({ zones }),
        });
        const body = await response.json();
        if (!response.ok) {
          say(`Not saved: ${body.error ? body.error.message : response.status}`);
          return;
        }
        zones = body.zones;
        render();
        say(`Saved ${zones.length} zone${zones.length === 1 ? "" : "s"}.`);
      } catch (err) {
        say(`Not saved: ${err.message}`);
      } finally {
        saveButton.disabled = false;
      }
    });
  }
  render();

  // --- Test with this image: the session Try-it endpoint with ?camera=, kept and dropped. ---
  const form = document.getElementById("test-form");
  if (!form) return;
  const testStatus = document.getElementById("test-status");
  const result = document.getElementById("test-result");
  const frame = document.getElementById("test-frame");
  const image = frame.querySelector("img");
  const droppedList = document.getElementById("test-dropped");
  const REASONS = {
    below_threshold: "below threshold",
    too_small: "too small",
    masked: "masked",
    outside_zones: "outside zones",
  };

  function drawResult(body) {
    window.IPCAI.drawBoxes(frame, body.width, body.height, body.detections);
    const overlay = frame.querySelector("svg");
    for (const zone of data.zones) {
      overlay.appendChild(
        element("polygon", {
          points: zone.points.map(([x, y]) => `${x * body.width},${y * body.height}`).join(" "),
          class: `zone ${zone.kind}`,
          stroke: ZONE_COLOURS[zone.kind],
          fill: ZONE_COLOURS[zone.kind],
        })
      );
    }
    const fontSize = Math.max(12, Math.round(body.width / 45));
    for (const dropped of body.dropped || []) {
      const [x1, y1, x2, y2] = dropped.box;
      overlay.appendChild(
        element("rect", {
          class: "box dropped",
          "data-label": dropped.label,
          "data-reason": dropped.reason,
          x: x1,
          y: y1,
          width: Math.max(0, x2 - x1),
          height: Math.max(0, y2 - y1),
        })
      );
      const label = element("text", { class: "dropped", x: x1 + 4, y: y1 + fontSize + 2 });
      label.style.fontSize = `${fontSize}px`;
      label.textContent = `${dropped.label}: ${REASONS[dropped.reason] || dropped.reason}`;
      overlay.appendChild(label);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("test-image").files[0];
    if (!file) {
      testStatus.textContent = "Choose an image first.";
      return;
    }
    data.zones = zones; // what is drawn; the server uses what is saved
    const url = new URL(
      data.detect_url.replace("SERVICE", encodeURIComponent(document.getElementById("test-service").value)),
      window.location.origin
    );
    url.searchParams.set("camera", data.camera);
    testStatus.textContent = "Testing…";
    try {
      const response = await fetch(url, {
        method: "POST",
        body: file,
        credentials: "same-origin",
        headers: { "Content-Type": file.type || "application/octet-stream", "X-CSRFToken": csrfToken },
      });
      const body = await response.json();
      if (!response.ok) {
        result.hidden = true;
        testStatus.textContent = `Error ${response.status}: ${body.error ? body.error.message : ""}`;
        return;
      }
      await window.IPCAI.showFile(image, file);
      result.hidden = false;
      drawResult(body);
      droppedList.replaceChildren();
      for (const dropped of body.dropped) {
        const item = document.createElement("li");
        item.dataset.reason = dropped.reason;
        item.textContent = `${dropped.label} ${Number(dropped.score).toFixed(2)}: ${REASONS[dropped.reason] || dropped.reason}${dropped.zone ? ` (${dropped.zone})` : ""}`;
        droppedList.appendChild(item);
      }
      if (!body.dropped.length) {
        const item = document.createElement("li");
        item.className = "muted";
        item.textContent = "nothing";
        droppedList.appendChild(item);
      }
      testStatus.textContent = `Kept ${body.detections.length}, dropped ${body.dropped.length}.`;
    } catch (err) {
      testStatus.textContent = `The request failed: ${err.message}`;
    }
  });
})();
