// The case page of the staff inbox: "Use my current location" on an inspection report fills the
// latitude and longitude from the phone. Without JavaScript (or without geolocation, which
// browsers only offer on https pages) the button stays hidden and the inspector types them; the
// server checks what arrives either way. The messages come translated in data- attributes.
document.addEventListener("DOMContentLoaded", () => {
  if (!("geolocation" in navigator) || !window.isSecureContext) return;
  const language = document.documentElement.lang || "fa";
  // Persian digits on a Persian page; the server reads Persian, Arabic and Latin digits alike.
  const show = (number, digits) =>
    number.toLocaleString(language, { useGrouping: false, maximumFractionDigits: digits });

  for (const button of document.querySelectorAll("[data-locate]")) {
    const step = button.dataset.locate;
    const field = (name) => document.getElementById(`${step}-${name}`);
    const status = field("locate-status");
    const say = (text) => {
      if (status) status.textContent = text;
    };
    button.hidden = false;
    button.addEventListener("click", () => {
      button.disabled = true;
      say(button.dataset.finding);
      navigator.geolocation.getCurrentPosition(
        (position) => {
          const { latitude, longitude, accuracy } = position.coords;
          field("latitude").value = show(latitude, 6);
          field("longitude").value = show(longitude, 6);
          field("accuracy").value = String(Math.round(accuracy * 10) / 10);
          field("location_source").value = "device";
          button.disabled = false;
          say(button.dataset.found.replace("%(metres)s", show(Math.round(accuracy), 0)));
        },
        (error) => {
          button.disabled = false;
          say(error.code === error.PERMISSION_DENIED ? button.dataset.denied : button.dataset.unavailable);
          field("latitude").focus();
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
      );
    });
    // Typed by hand after all: the phone's accuracy no longer describes the numbers.
    for (const name of ["latitude", "longitude"]) {
      field(name)?.addEventListener("input", () => {
        field("accuracy").value = "";
        field("location_source").value = "typed";
      });
    }
  }
});

// "Add another photo": a phone's camera gives one photo per pick (the `capture` attribute), so
// each press adds one more file input of the same name and opens it; the server reads them all.
document.addEventListener("DOMContentLoaded", () => {
  const language = document.documentElement.lang || "fa";
  for (const button of document.querySelectorAll("[data-add-photo]")) {
    const first = document.getElementById(button.dataset.addPhoto);
    if (!first) continue;
    const max = Number(button.dataset.max) || 10;
    let count = 1;
    button.hidden = false;
    button.addEventListener("click", () => {
      count += 1;
      const input = document.createElement("input");
      for (const name of ["type", "name", "accept", "capture", "aria-describedby"]) {
        if (first.hasAttribute(name)) input.setAttribute(name, first.getAttribute(name));
      }
      input.id = `${first.id}-${count}`;
      input.setAttribute("aria-label", `${button.dataset.label} ${count.toLocaleString(language)}`);
      button.parentElement.before(input);
      if (count >= max) button.hidden = true;
      input.focus();
      input.click();
    });
  }
});

// After a refused report or signature, start where the problems are listed.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();
});
