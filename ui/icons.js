// Service icons: a row without a custom icon shows the brand or icon-pack icon its issuer or
// account name matches, fetched once per icon and shared by every row that shows it. The bytes
// become a blob: URL shown in an <img>: an SVG from an icon pack is untrusted, and as an image it
// runs no script and loads nothing (the CSP's img-src allows 'self' and blob: only).
// Also the Settings section that imports, lists and removes Aegis icon packs.
import { brandIcon, iconPacks, importIconPack, removeIconPack } from "./api.js";
import { showError } from "./manage.js";

/** Object URLs (as promises) by icon key, shared by the rows showing the same icon. */
const urls = new Map();

function urlOf(brand) {
  let url = urls.get(brand.key);
  if (!url) {
    url = brandIcon(brand.key).then((bytes) => URL.createObjectURL(new Blob([bytes], { type: brand.mime })));
    // A failed fetch is not kept: the row shows its letter, and the next listing asks again.
    url.catch(() => urls.delete(brand.key));
    urls.set(brand.key, url);
  }
  return url;
}

/** Shows service icon `brand` (`{key, mime}`) in `avatar`, in place of its letter once it arrives. */
export async function showBrand(avatar, brand) {
  const url = await urlOf(brand);
  if (avatar.dataset.shown !== `brand:${brand.key}`) return;
  const image = document.createElement("img");
  image.className = "icon";
  image.alt = "";
  image.src = url;
  avatar.replaceChildren(image);
  avatar.classList.add("custom");
}

/** Drops every fetched service icon (a pack came or went), so the next listing fetches them again. */
function forgetBrands() {
  for (const url of urls.values()) url.then((u) => URL.revokeObjectURL(u)).catch(() => {});
  urls.clear();
  for (const avatar of document.querySelectorAll(".avatar[data-shown^='brand:']")) avatar.dataset.shown = "";
}

/** One imported pack in the settings list, with its Remove button. */
function packItem(pack, removed) {
  const item = document.createElement("li");
  item.className = "icon-pack";
  const text = document.createElement("span");
  const skipped = pack.skipped ? `, ${pack.skipped} could not be shown` : "";
  text.textContent = `${pack.name} (version ${pack.version}): ${pack.icons} icons${skipped}`;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "action";
  remove.textContent = "Remove";
  remove.setAttribute("aria-label", `Remove the icon pack ${pack.name}`);
  remove.addEventListener("click", () => removed(pack));
  item.append(text, remove);
  return item;
}

/** Sets up the Settings section for icon packs; `refresh` lists the accounts again, `say` tells the person. */
export function setUpIconPacks({ refresh, say }) {
  const list = document.getElementById("icon-packs");
  const file = document.getElementById("icon-pack-file");
  const error = document.getElementById("icon-pack-error");

  async function show() {
    try {
      const packs = await iconPacks();
      list.replaceChildren(...packs.map((pack) => packItem(pack, remove)));
      showError(error, null);
    } catch (err) {
      showError(error, err);
    }
  }

  async function changed(message) {
    forgetBrands();
    say(message);
    await Promise.all([show(), refresh()]);
  }

  async function remove(pack) {
    try {
      await removeIconPack(pack.uuid);
      await changed(`Icon pack ${pack.name} removed`);
    } catch (err) {
      showError(error, err);
    }
  }

  file.addEventListener("change", async () => {
    const chosen = file.files[0];
    file.value = "";
    if (!chosen) return;
    try {
      const pack = await importIconPack(new Uint8Array(await chosen.arrayBuffer()));
      await changed(`Icon pack ${pack.name} imported: ${pack.icons} icons`);
    } catch (err) {
      showError(error, err);
    }
  });
  document.getElementById("open-settings").addEventListener("click", show);
}
