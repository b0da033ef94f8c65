// "Show all N steps": opens every stage of a long process at once. Without JavaScript the button
// stays hidden and each stage opens on its own, so nothing depends on this file.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-open-all]")) {
    const list = document.getElementById(button.dataset.openAll);
    if (!list) continue;
    const stages = [...list.querySelectorAll(":scope > li > details")];
    const showLabel = button.textContent;
    const hideLabel = button.dataset.hideLabel || showLabel;
    button.hidden = false;
    button.setAttribute("aria-controls", list.id);
    const sync = () => {
      const allOpen = stages.every((stage) => stage.open);
      button.textContent = allOpen ? hideLabel : showLabel;
      button.setAttribute("aria-expanded", String(allOpen));
    };
    button.addEventListener("click", () => {
      const open = !stages.every((stage) => stage.open);
      for (const stage of stages) stage.open = open;
      sync();
    });
    for (const stage of stages) stage.addEventListener("toggle", sync);
    sync();
  }
});
