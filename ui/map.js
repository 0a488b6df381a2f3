// A small offline world map with a pin: the land from world.js (equirectangular, viewBox units are
// degrees), cropped around the pin so that a city-level location reads at a glance. No network.
import { svg } from "./rows.js";
import { LAND } from "./world.js";

const WIDTH = 360;
const HEIGHT = 180;

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/** Map coordinates of a latitude and longitude (degrees): `{x: lon + 180, y: 90 - lat}`, kept on the map. */
export function project(lat, lon) {
  return { x: clamp(lon + 180, 0, WIDTH), y: clamp(90 - lat, 0, HEIGHT) };
}

/**
 * An `<svg>` map (role img, named `label`) with a pin at `lat`, `lon`. It shows `span` degrees of
 * longitude (360: the whole world) and half as many of latitude, centred on the pin as far as the
 * map's edges allow.
 */
export function worldMap(lat, lon, { span = WIDTH, label = "" } = {}) {
  const width = clamp(span, 10, WIDTH);
  const height = width / 2;
  const pin = project(lat, lon);
  const left = clamp(pin.x - width / 2, 0, WIDTH - width);
  const top = clamp(pin.y - height / 2, 0, HEIGHT - height);
  const map = svg("svg", {
    class: "world-map",
    viewBox: `${left} ${top} ${width} ${height}`,
    role: "img",
    "aria-label": label,
  });
  // The pin keeps the same size on screen whatever the zoom.
  const radius = width / 70;
  map.append(
    svg("rect", { class: "map-ocean", x: 0, y: 0, width: WIDTH, height: HEIGHT }),
    svg("path", { class: "map-land", d: LAND, "fill-rule": "evenodd" }),
    svg("circle", { class: "map-pin-halo", cx: pin.x, cy: pin.y, r: radius * 2.6 }),
    svg("circle", { class: "map-pin", cx: pin.x, cy: pin.y, r: radius, "stroke-width": radius / 2.5 }),
  );
  return map;
}
