// Row density: comfortable (the default) or compact, a choice of this window's look kept in the
// page's own storage and applied at once.
const KEY = "twofold.density";

/** Applies the stored density and wires the settings' checkbox to change it. */
export function setUpDensity() {
  const box = document.getElementById("compact");
  const apply = (compact) => {
    document.body.classList.toggle("compact", compact);
    box.checked = compact;
  };
  apply(localStorage.getItem(KEY) === "compact");
  box.addEventListener("change", () => {
    localStorage.setItem(KEY, box.checked ? "compact" : "comfortable");
    apply(box.checked);
  });
}
