// Shared by the explore pages (playground, search): their stylesheet, added once.
export function useStyles() {
  if (document.getElementById("explore-css")) return;
  const link = document.createElement("link");
  link.id = "explore-css";
  link.rel = "stylesheet";
  link.href = "/static/explore.css";
  document.head.append(link);
}
