// The staff map (desk/map/): the districts as shaded polygons with their names, and the open cases
// the signed-in person may see as markers, from desk/map/data.json. Where a view holds more cases
// than a map can show, the server sends groups of nearby cases instead; clicking a group zooms in
// and the view asks again. Without this file (or without Leaflet) the page is the table of
// districts with the same counts, which is also the accessible way to read it.
document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("map-section");
  const box = document.getElementById("case-map");
  const status = document.getElementById("map-status");
  if (!section || !box || !window.L) return;
  const words = JSON.parse(document.getElementById("case-map-labels").textContent);
  const persian = (document.documentElement.lang || "").startsWith("fa");
  const textDir = document.documentElement.dir || "rtl";

  const digits = (value) => {
    const text = String(value);
    return persian ? text.replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : text;
  };
  const escapeHtml = (text) =>
    String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const fill = (template, values) => template.replace(/%\((\w+)\)s/g, (_m, key) => values[key]);
  // Tooltips and popups hold page-language text inside the left-to-right map.
  const inPageDir = (html) => `<div dir="${textDir}">${html}</div>`;
  const say = (message) => {
    status.textContent = message || "";
  };

  section.hidden = false;
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", words.map_label);
  const map = L.map(box, { zoomSnap: 0.25, minZoom: 3, maxZoom: 18 });
  // Leaflet's own credit links to its website; the page links to nothing outside the city.
  map.attributionControl.setPrefix(false);
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: escapeHtml(box.dataset.attribution || "") }).addTo(map);
  }

  // --- the district read-out (the legend is in the page, under the map) -------------------------
  const info = L.control({ position: "topright" });
  info.onAdd = () => {
    const div = L.DomUtil.create("div", "map-info");
    div.dir = textDir;
    div.setAttribute("aria-live", "polite");
    return div;
  };
  info.addTo(map);
  const districtText = (p) =>
    `<strong>${escapeHtml(p.name)}</strong>${escapeHtml(words.open)}: ${digits(p.open)}<br>` +
    `${escapeHtml(words.overdue)}: ${digits(p.overdue)}`;
  const showDistrict = (p) => {
    info.getContainer().innerHTML = p ? districtText(p) : escapeHtml(words.info_hint);
  };
  showDistrict(null);

  // --- districts ------------------------------------------------------------------------------
  const drawDistricts = (collection) => {
    const most = Math.max(1, ...collection.features.map((f) => f.properties.open));
    const style = (feature) => ({
      color: "#084650",
      weight: 1.5,
      fillColor: "#0b5c68",
      fillOpacity: 0.06 + 0.34 * (feature.properties.open / most),
    });
    return L.geoJSON(collection, {
      style,
      onEachFeature: (feature, layer) => {
        const p = feature.properties;
        layer.bindTooltip(escapeHtml(p.name), {
          permanent: true,
          direction: "center",
          className: "district-label",
          interactive: false,
        });
        layer.bindPopup(inPageDir(districtText(p)));
        layer.on({
          mouseover: () => {
            layer.setStyle({ weight: 3 });
            showDistrict(p);
          },
          mouseout: () => {
            layer.setStyle({ weight: 1.5 });
            showDistrict(null);
          },
        });
      },
    }).addTo(map);
  };

  // --- cases ----------------------------------------------------------------------------------
  const cases = L.layerGroup().addTo(map);

  const caseMarker = (c) => {
    const overdue = c.overdue;
    const icon = L.divIcon({
      className: `case-marker ${overdue ? "case-marker-overdue" : "case-marker-ontime"}`,
      html: overdue ? '<span class="diamond"><span>!</span></span>' : "",
      iconSize: overdue ? [20, 20] : [16, 16],
    });
    const lines = [
      `<strong class="ltr">${digits(escapeHtml(c.tracking_code))}</strong>`,
      `${escapeHtml(words.service)}: ${escapeHtml(c.service)}`,
      `${escapeHtml(words.step)}: ${escapeHtml(c.step)}`,
      `${escapeHtml(words.district)}: ${escapeHtml(c.district)}`,
      overdue ? `<strong>⚠ ${escapeHtml(words.overdue)}</strong>` : escapeHtml(words.on_time),
      escapeHtml(words.open_case),
    ];
    const marker = L.marker([c.lat, c.lng], { icon, keyboard: true, riseOnHover: true, zIndexOffset: overdue ? 500 : 0 });
    marker.bindTooltip(inPageDir(lines.join("<br>")), { direction: "top" });
    marker.on("click", () => window.location.assign(c.url));
    marker.on("add", () => {
      const element = marker.getElement();
      element.setAttribute("role", "link");
      element.setAttribute(
        "aria-label",
        [digits(c.tracking_code), c.service, c.step, overdue ? words.overdue : words.on_time].join(persian ? "، " : ", "),
      );
      element.dataset.trackingCode = c.tracking_code;
    });
    return marker;
  };

  const groupMarker = (g) => {
    const size = Math.round(Math.min(40, 24 + 5 * Math.log10(g.count)));
    const icon = L.divIcon({
      className: `case-group${g.overdue ? " case-group-overdue" : ""}`,
      html: `<span>${digits(g.count)}${g.overdue ? "!" : ""}</span>`,
      iconSize: [size, size],
    });
    const text = fill(words.group, { count: digits(g.count), overdue: digits(g.overdue) });
    const marker = L.marker([g.lat, g.lng], { icon, keyboard: true, zIndexOffset: g.overdue ? 500 : 0 });
    marker.bindTooltip(inPageDir(escapeHtml(text)), { direction: "top" });
    marker.on("add", () => marker.getElement().setAttribute("aria-label", text));
    marker.on("click", () => {
      const bounds = L.latLngBounds(g.bounds);
      const zoom = map.getZoom();
      if (bounds.getNorthEast().equals(bounds.getSouthWest())) map.setView(bounds.getCenter(), zoom + 2);
      else map.fitBounds(bounds.pad(0.2), { maxZoom: Math.max(zoom + 1, Math.min(zoom + 3, 18)) });
    });
    return marker;
  };

  const drawPoints = (points) => {
    cases.clearLayers();
    points.cases.forEach((c) => cases.addLayer(caseMarker(c)));
    points.groups.forEach((g) => cases.addLayer(groupMarker(g)));
    if (points.grouped) say(fill(words.grouped, { count: digits(points.located) }));
    else if (!points.located) say(words.nothing);
    else say("");
  };

  // --- asking the server ----------------------------------------------------------------------
  let asked = 0;
  const load = (query) => {
    const ask = ++asked;
    const url = `${box.dataset.url}?${new URLSearchParams(query)}`;
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then((data) => (ask === asked ? data : null));
  };
  const viewBox = () => {
    const b = map.getBounds();
    return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map((n) => n.toFixed(5)).join(",");
  };
  const failed = () => say(words.failed);

  load({})
    .then((data) => {
      if (!data) return;
      const districts = drawDistricts(data.districts);
      drawPoints(data.points);
      let bounds = districts.getBounds();
      if (!bounds.isValid()) bounds = L.featureGroup(cases.getLayers()).getBounds();
      if (!bounds.isValid()) {
        // No district has a boundary and no case a place: nothing to draw; the table stays.
        map.remove();
        box.hidden = true;
        say(words.nothing);
        return;
      }
      map.fitBounds(bounds, { animate: false, padding: [8, 8] });
      // Only now: the first fitBounds must not ask again for what the first answer holds.
      map.on("moveend", () => {
        load({ bbox: viewBox(), districts: "0" })
          .then((next) => next && drawPoints(next.points))
          .catch(failed);
      });
    })
    .catch(failed);
});
