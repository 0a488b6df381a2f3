// GNOME Shell's search: "more results" in the Activities overview opens the window searching
// for what was typed there.
import { onSearchRequested } from "./api.js";

/** Puts each query GNOME Shell hands over into the search box, as if typed. */
export function setUpShellSearch() {
  const search = document.getElementById("search");
  onSearchRequested((query) => {
    search.value = query;
    search.dispatchEvent(new Event("input"));
    search.focus();
  });
}
