// Alt+Q focuses the search box in the header, as in Business Central.
document.addEventListener("keydown", (event) => {
  if (event.altKey && event.key.toLowerCase() === "q") {
    const search = document.getElementById("global-search");
    if (search) { event.preventDefault(); search.focus(); }
  }
});
