// A map above each map point's latitude and longitude boxes (fieldset[data-map-point]): a click
// puts the marker there and fills the boxes, dragging the marker moves it, and typing in the boxes
// moves the marker. The districts' outlines (#apply-map) show where the city's districts lie; map
// tiles are drawn only when the city configured a tile server (PISHKHAN_MAP_TILES). Without
// JavaScript, or without Leaflet, the two boxes are the whole field and the server checks them.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.L) return;
  const dataNode = document.getElementById("apply-map");
  const textsNode = document.getElementById("apply-texts");
  const data = dataNode ? JSON.parse(dataNode.textContent) : { districts: [] };
  const texts = textsNode ? JSON.parse(textsNode.textContent) : {};
  // Tehran's centre: where the map opens when there is no point yet and no district outline.
  const CITY_CENTRE = [35.6892, 51.389];

  const number = (text) => {
    const ascii = String(text || "")
      .replace(/[۰-۹]/g, (c) => "۰۱۲۳۴۵۶۷۸۹".indexOf(c))
      .replace(/[٠-٩]/g, (c) => "٠١٢٣٤٥٦٧٨٩".indexOf(c))
      .replace("٫", ".")
      .trim();
    return ascii && /^[+-]?\d+(\.\d+)?$/.test(ascii) ? parseFloat(ascii) : NaN;
  };

  for (const fieldset of document.querySelectorAll("fieldset[data-map-point]")) {
    // Rows of a repeated group are copied by apply.js; their points are typed.
    if (fieldset.closest(".apply-row")) continue;
    const box = fieldset.querySelector(".map-point-map");
    const lat = fieldset.querySelector('input[name$=".lat"]');
    const lng = fieldset.querySelector('input[name$=".lng"]');
    if (!box || !lat || !lng) continue;
    box.hidden = false;
    // A named region: aria-label alone on a plain div is ignored by screen readers.
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", texts.mapLabel || "");

    const map = L.map(box, {
      attributionControl: Boolean(data.attribution),
      zoomControl: false,
      scrollWheelZoom: false, // a page scrolled past the map must not zoom it
    });
    L.control.zoom({ zoomInTitle: texts.zoomIn || "+", zoomOutTitle: texts.zoomOut || "-" }).addTo(map);
    if (data.attribution) map.attributionControl.setPrefix(false);
    if (data.tiles) L.tileLayer(data.tiles, { attribution: data.attribution || "", maxZoom: 19 }).addTo(map);

    const outlines = L.geoJSON(
      (data.districts || []).map((district) => ({
        type: "Feature",
        properties: { name: district.name },
        geometry: district.boundary.type === "Feature" ? district.boundary.geometry : district.boundary,
      })),
      {
        style: { color: "#0b5c68", weight: 2, fillColor: "#0b5c68", fillOpacity: 0.06 },
        // A click on an outline reaches the map too (Leaflet bubbles it) and sets the point.
        onEachFeature: (feature, layer) => {
          layer.bindTooltip(feature.properties.name, { sticky: true, direction: "top" });
          // Leaflet listens for focus on each outline (to show its tooltip), and Chromium then
          // puts every SVG path in the tab order: twenty-odd unnamed stops between the map and
          // its zoom buttons. The outlines help the eye; the keyboard uses the boxes below.
          layer.on("add", () => layer.getElement().setAttribute("tabindex", "-1"));
        },
      },
    ).addTo(map);

    const icon = L.icon({
      iconUrl: box.dataset.icon,
      iconRetinaUrl: box.dataset.icon2x,
      shadowUrl: box.dataset.shadow,
      iconSize: [25, 41],
      iconAnchor: [12, 41],
      shadowSize: [41, 41],
    });
    let marker = null;
    let writing = false;

    const write = (point) => {
      lat.value = point.lat.toFixed(6);
      lng.value = point.lng.toFixed(6);
      writing = true; // our own change events must not pan the map back
      for (const input of [lat, lng]) input.dispatchEvent(new Event("change", { bubbles: true }));
      writing = false;
    };
    const place = (point) => {
      if (marker) {
        marker.setLatLng(point);
        return;
      }
      marker = L.marker(point, { icon, draggable: true, title: texts.marker || "", alt: texts.marker || "" }).addTo(map);
      marker.on("dragend", () => write(marker.getLatLng()));
    };
    const read = () => {
      const point = [number(lat.value), number(lng.value)];
      if (!Number.isFinite(point[0]) || !Number.isFinite(point[1])) return false;
      place(point);
      return true;
    };

    map.on("click", (event) => {
      place(event.latlng);
      write(event.latlng);
    });
    for (const input of [lat, lng]) {
      input.addEventListener("change", () => {
        if (!writing && read()) map.panTo(marker.getLatLng());
      });
    }

    if (read()) map.setView(marker.getLatLng(), 15);
    else if (outlines.getLayers().length) map.fitBounds(outlines.getBounds(), { padding: [8, 8] });
    else map.setView(CITY_CENTRE, 11);

    // A map drawn while hidden (a field shown by a condition) has no size until it is shown.
    if (window.ResizeObserver) new ResizeObserver(() => map.invalidateSize()).observe(box);
  }
});
