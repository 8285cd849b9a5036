// The sightings maps: Leaflet (served by WildID itself) over an outline of the world, or over
// the configured tile server; markers from the page's endpoint, fetched again as the view
// moves (the public map) or once (a person's own). Popups are built from text nodes, never
// from HTML, so a name cannot inject markup.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("map");
  const status = document.getElementById("map-status");
  if (!box || typeof window.L === "undefined") {
    return;
  }
  const say = (text) => {
    if (status) status.textContent = text;
  };
  const L = window.L;
  box.replaceChildren();
  box.classList.add("map-ready");
  // The whole inhabited world first, whatever the screen's width.
  const map = L.map(box, { worldCopyJump: true, minZoom: 0, maxZoom: 18 }).fitBounds([[-55, -170], [72, 180]]);
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { attribution: box.dataset.attribution || "", maxZoom: 18 }).addTo(map);
  } else {
    map.attributionControl.addAttribution("Outlines: Natural Earth");
    try {
      const world = await (await fetch(box.dataset.world, { credentials: "same-origin" })).json();
      L.geoJSON(world, { interactive: false, className: "map-land" }).addTo(map);
    } catch {
      // The markers still show without the outline.
    }
  }
  const markers = L.layerGroup().addTo(map);
  const own = box.dataset.own === "1";

  const popup = (s) => {
    const div = document.createElement("div");
    const title = document.createElement(own ? "a" : "strong");
    title.textContent = s.common_name;
    if (own) title.href = `/history/${encodeURIComponent(s.id)}`;
    div.append(title);
    if (s.species) {
      const i = document.createElement("i");
      i.textContent = ` (${s.species})`;
      div.append(i);
    }
    const p = document.createElement("p");
    p.textContent = `Seen ${s.seen_on}` + (s.obscured ? " · shown at a blurred place" : "") +
      (own ? ` · ${s.visibility}` : "");
    div.append(p);
    return div;
  };

  const draw = (sightings) => {
    markers.clearLayers();
    for (const s of sightings) {
      L.circleMarker([s.latitude, s.longitude], {
        radius: 7,
        className: s.obscured ? "map-marker map-marker-blurred" : "map-marker",
      })
        .bindPopup(popup(s))
        .addTo(markers);
    }
  };

  let asked = 0;
  const load = async () => {
    const ticket = ++asked;
    let url = box.dataset.endpoint;
    if (!own) {
      const b = map.getBounds();
      const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
      const q = new URLSearchParams({
        south: clamp(b.getSouth(), -90, 90).toFixed(6),
        west: clamp(b.getWest(), -180, 180).toFixed(6),
        north: clamp(b.getNorth(), -90, 90).toFixed(6),
        east: clamp(b.getEast(), -180, 180).toFixed(6),
      });
      url += `?${q}`;
    }
    try {
      const answer = await fetch(url, { credentials: "same-origin" });
      if (!answer.ok) throw new Error(String(answer.status));
      const body = await answer.json();
      if (ticket !== asked) return;
      draw(body.sightings);
      const n = body.sightings.length;
      say(n === 0 ? "No sightings here yet." :
        `${n} sighting${n === 1 ? "" : "s"} on the map${body.truncated ? ": zoom in to see more" : ""}.`);
      if (own && n > 0) {
        map.fitBounds(L.latLngBounds(body.sightings.map((s) => [s.latitude, s.longitude])).pad(0.3), { maxZoom: 10 });
      }
    } catch {
      say("The sightings could not be loaded. Please try again shortly.");
    }
  };
  if (!own) {
    let timer;
    map.on("moveend", () => {
      clearTimeout(timer);
      timer = setTimeout(load, 250);
    });
  }
  load();
});
