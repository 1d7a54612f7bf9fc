// The shell: navigation built from the server's page list, one JavaScript module per page.
import { api, el } from "./api.js";

const statusLine = document.getElementById("status");
const root = document.getElementById("page");
let pages = [];
let unmount = null;

export const studio = {
  api,
  // say what the studio is doing: kind is "" (info), "busy" or "error"
  status(message, kind = "") {
    statusLine.textContent = message;
    statusLine.className = "status" + (kind ? " " + kind : "");
  },
};

async function show(id) {
  const page = pages.find((p) => p.id === id) || pages[0];
  if (!page) return;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === page.id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (unmount) { try { unmount(); } catch (e) { console.error(e); } unmount = null; }
  root.replaceChildren();
  document.title = `${page.title} · playml studio`;
  studio.status(`Opening ${page.title}…`, "busy");
  try {
    const module = await import(`./pages/${page.id}.js`);
    unmount = (await module.mount(root, studio)) || null;
  } catch (err) {
    studio.status(`The ${page.title} page could not start: ${err.message}`, "error");
  }
}

async function start() {
  try {
    const info = await api("/api/info");
    pages = info.pages;
  } catch (err) {
    studio.status(err.message, "error");
    return;
  }
  const nav = document.getElementById("nav");
  nav.replaceChildren(...pages.map((p) =>
    el("li", {}, el("a", { href: `#${p.id}`, "data-page": p.id, title: p.description, text: p.title }))));
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  show(location.hash.slice(1));
}

start();
