// A button that prints the page (the 事業シート: one measure to an A4 page, see portal.css).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
