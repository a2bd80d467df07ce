// Alt+Q focuses the search box in the header, as in Business Central.
document.addEventListener("keydown", (event) => {
  if (event.altKey && event.key.toLowerCase() === "q") {
    const search = document.getElementById("global-search");
    if (search) { event.preventDefault(); search.focus(); }
  }
});

// The search's typeahead: shown when htmx fills it; the arrow keys walk its links;
// Escape or a click elsewhere closes it.
(() => {
  const input = document.getElementById("global-search");
  const panel = document.getElementById("global-search-results");
  if (!input || !panel) return;
  const links = () => [...panel.querySelectorAll("a[href]")];
  let dismissed = false;
  const show = (open) => {
    panel.hidden = !open || dismissed || !panel.textContent.trim();
    input.setAttribute("aria-expanded", String(!panel.hidden));
  };
  const status = document.getElementById("global-search-status");
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target !== panel) return;
    dismissed = false;
    show(true);
    if (status) status.textContent = panel.querySelector(".search-summary, .search-none")?.textContent.trim() || "";
  });
  input.addEventListener("focus", () => show(true));
  input.form.addEventListener("keydown", (event) => {
    const all = links();
    const at = all.indexOf(document.activeElement);
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      dismissed = true;
      show(false);
      input.focus();
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && !panel.hidden && all.length) {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      if (at === -1) (step === 1 ? all[0] : all[all.length - 1]).focus();
      else if (at + step < 0) input.focus();
      else all[Math.min(at + step, all.length - 1)].focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!input.form.contains(event.target)) show(false);
  });
  input.form.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !input.form.contains(event.relatedTarget)) show(false);
  });
})();

// The menu that holds the nav's links on a narrow screen: Escape or a click elsewhere closes it.
(() => {
  const menu = document.querySelector(".site-menu");
  if (!menu) return;
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
})();

// The pages carry no inline script (the Content-Security-Policy forbids it): what they
// need of JavaScript is declared with data- attributes and done here.

// form[data-dialog]: the action asks in its <dialog>; without JavaScript the form opens a
// confirmation page instead.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-dialog]");
  const dialog = form && document.getElementById(form.dataset.dialog);
  if (dialog && typeof dialog.showModal === "function") {
    event.preventDefault();
    // What was typed on the page but not saved (a tracking number) goes with the action.
    for (const input of dialog.querySelectorAll("input[data-copy-from]")) {
      const typed = document.getElementById(input.dataset.copyFrom);
      if (typed && typed.value.trim()) input.value = typed.value;
    }
    dialog.showModal();
  }
});

// form[data-confirm]: ask before a change that cannot be undone.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// [data-swap-errors]: show an error page (a stale form's 400, a 403, a queue down's 503) where
// the answer goes, rather than dropping it as htmx does with errors. A form refused (422) is
// swapped everywhere without this: base.html's htmx-config says so.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.isError && event.detail.target.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// [data-poll-while-visible]: a run's status (or an audit) polls only while someone can see it.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.closest("[data-poll-while-visible]") && document.visibilityState !== "visible") {
    event.preventDefault();
  }
});
