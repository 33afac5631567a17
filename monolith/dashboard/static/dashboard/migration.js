// The migration page keeps itself current: it asks for its figures every few seconds and redraws
// its three tables. No framework and no CDN: the shop serves this file itself.
(function () {
  const script = document.currentScript;
  const url = script.dataset.url;
  const poll = Number(script.dataset.poll) * 1000;
  const dash = (value) => (value === null || value === undefined ? "-" : String(value));
  const percent = (share) => (share === null || share === undefined ? "-" : (share * 100).toFixed(1) + " %");

  function cell(text, numeric) {
    const td = document.createElement("td");
    if (numeric) td.className = "num";
    td.textContent = text;
    return td;
  }

  function fill(name, rows) {
    const body = document.querySelector(`[data-rows="${name}"]`);
    body.replaceChildren(...rows.map((cells) => {
      const tr = document.createElement("tr");
      cells.forEach((c) => tr.append(c instanceof Node ? c : cell(c[0], c[1])));
      return tr;
    }));
  }

  // An inline SVG line of the rates between readings, scaled to the highest.
  function sparkline(points) {
    const td = document.createElement("td");
    const values = points.map((p) => p || 0);
    if (values.length < 2) return td;
    const width = 120, height = 24, top = Math.max(...values, 1);
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "currentColor");
    line.setAttribute("points", values.map((v, i) =>
      `${(i * width / (values.length - 1)).toFixed(1)},${(height - 1 - v * (height - 2) / top).toFixed(1)}`).join(" "));
    svg.append(line);
    td.append(svg);
    return td;
  }

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status);
      const data = await response.json();
      document.querySelector('[data-field="stage"]').textContent = `stage ${data.stage}`;
      fill("routes", data.routes.map((r) => [[r.prefix], [r.served_by]]));
      fill("processes", data.processes.map((p) => [
        [p.name + (p.up ? "" : " (no answer)")], [dash(p.rate), true], [percent(p.error_rate), true],
        [dash(p.p50_ms), true], [dash(p.p95_ms), true], [dash(p.requests), true], [dash(p.errors), true],
        sparkline(p.sparkline),
      ]));
      fill("moves", data.moves.length ? data.moves.map((m) => [
        [new Date(m.finished_at).toLocaleTimeString()], [`${m.from} → ${m.to}`], [dash(m.seconds), true],
        [dash(m.writes_held_ms), true],
      ]) : [[["None yet: shop stage N moves the running shop."]]]);
      document.querySelector('[data-field="updated"]').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    } catch (error) {
      document.querySelector('[data-field="updated"]').textContent = `Not updated (${error.message}); trying again.`;
    }
  }

  refresh();
  setInterval(refresh, poll);
})();
