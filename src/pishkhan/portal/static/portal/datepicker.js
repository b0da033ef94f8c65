// A Jalali calendar beside each date box of the form (input[data-jalali-date]). It only fills the
// box: the box still takes a typed date (Persian or Latin digits, 1403/05/12 or 1403-05-12) and the
// server reads and checks whatever is in it. Month names, weekday names and the other words come
// from the page (#apply-texts), in the page's language.
//
// The calendar arithmetic is our own. A Jalali year is a leap year when its remainder after
// dividing by 33 is 1, 5, 9, 13, 17, 22, 26 or 30: the same rule as the server's jdatetime, so the
// two always agree. Months 1-6 have 31 days, 7-11 have 30, Esfand 29 (30 in a leap year). Days are
// counted from 1 Farvardin of year 1 and tied to the Gregorian calendar at one known day,
// 1 Farvardin 1404 = 21 March 2025.
(() => {
  const LEAP_REMAINDERS = [1, 5, 9, 13, 17, 22, 26, 30];
  const DAY_MS = 86400000;
  const mod = (a, b) => ((a % b) + b) % b;
  const isLeap = (year) => LEAP_REMAINDERS.includes(mod(year, 33));
  const monthLength = (year, month) => (month <= 6 ? 31 : month <= 11 ? 30 : isLeap(year) ? 30 : 29);
  // Days from 1 Farvardin 1 to 1 Farvardin of `year`: 365 a year plus one per leap year before it.
  const daysBeforeYear = (year) => {
    const years = year - 1;
    const leaps = Math.floor(years / 33) * 8 + LEAP_REMAINDERS.filter((r) => r <= mod(years, 33)).length;
    return 365 * years + leaps;
  };
  const daysBeforeMonth = (month) => (month <= 7 ? (month - 1) * 31 : 186 + (month - 7) * 30);
  const dayNumber = (year, month, day) => daysBeforeYear(year) + daysBeforeMonth(month) + day - 1;
  const EPOCH_MS = Date.UTC(2025, 2, 21) - dayNumber(1404, 1, 1) * DAY_MS;

  const toGregorian = (year, month, day) => {
    const date = new Date(EPOCH_MS + dayNumber(year, month, day) * DAY_MS);
    return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
  };

  const fromDayNumber = (number) => {
    let year = Math.floor(number / 365.2425) + 1;
    while (daysBeforeYear(year + 1) <= number) year += 1;
    while (daysBeforeYear(year) > number) year -= 1;
    let rest = number - daysBeforeYear(year);
    let month = 1;
    while (rest >= monthLength(year, month)) {
      rest -= monthLength(year, month);
      month += 1;
    }
    return [year, month, rest + 1];
  };

  const toJalali = (year, month, day) => {
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day); // setUTCFullYear: Date.UTC would read year 99 as 1999
    return fromDayNumber(Math.round((date.getTime() - EPOCH_MS) / DAY_MS));
  };

  // 0 = Saturday, the first day of the Iranian week.
  const weekday = (year, month, day) => mod(dayNumber(year, month, day) - dayNumber(1404, 1, 1) + 6, 7);
  const addDays = (date, days) => fromDayNumber(dayNumber(...date) + days);

  // Exposed for the browser tests, which check the arithmetic against the server's calendar.
  window.PishkhanJalali = { isLeap, monthLength, toGregorian, toJalali, weekday };

  const FA_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
  const AR_DIGITS = "٠١٢٣٤٥٦٧٨٩";
  const toAscii = (text) =>
    String(text)
      .replace(/[۰-۹]/g, (c) => FA_DIGITS.indexOf(c))
      .replace(/[٠-٩]/g, (c) => AR_DIGITS.indexOf(c));

  // 1403/05/12, 1403-5-12, ۱۴۰۳/۰۵/۱۲ → [1403, 5, 12]; anything else (or a day that does not
  // exist) → null, and the calendar opens on today.
  const parse = (text) => {
    const match = /^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*$/.exec(toAscii(text || ""));
    if (!match) return null;
    const [year, month, day] = match.slice(1).map(Number);
    if (month < 1 || month > 12 || day < 1 || day > monthLength(year, month)) return null;
    return [year, month, day];
  };

  const same = (a, b) => Boolean(a && b) && a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

  const enhance = (input, texts) => {
    if (input.dataset.calendar) return;
    input.dataset.calendar = "ready";
    const digits = (number, width = 0) => {
      const text = String(number).padStart(width, "0");
      return texts.persianDigits ? text.replace(/\d/g, (d) => FA_DIGITS[d]) : text;
    };
    const formatted = (date) => `${digits(date[0])}/${digits(date[1], 2)}/${digits(date[2], 2)}`;
    const spoken = (date) =>
      `${texts.weekdayNames[weekday(...date)]} ${digits(date[2])} ${texts.months[date[1] - 1]} ${digits(date[0])}`;
    const label = input.id ? document.querySelector(`label[for="${input.id}"]`) : null;
    const labelText = label ? label.textContent.replace("*", "").trim() : "";

    const wrap = document.createElement("div");
    wrap.className = "date-input";
    input.before(wrap);
    wrap.append(input);
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "button date-toggle";
    toggle.setAttribute("aria-haspopup", "dialog");
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-label", labelText ? `${texts.openCalendar}: ${labelText}` : texts.openCalendar);
    toggle.innerHTML =
      '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><rect x="3" y="5" width="18" height="16" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><path d="M3 10h18M8 3v4M16 3v4" stroke="currentColor" stroke-width="2" fill="none"/></svg>';
    wrap.append(toggle);

    let popup = null;
    let focused = null; // the day the keyboard is on
    let shown = null; // [year, month] drawn
    const titleId = `${input.id || "date"}-calendar-title`;

    const close = (returnFocus) => {
      if (!popup) return;
      popup.remove();
      popup = null;
      toggle.setAttribute("aria-expanded", "false");
      document.removeEventListener("pointerdown", outside, true);
      if (returnFocus) toggle.focus();
    };
    const outside = (event) => {
      if (popup && !wrap.contains(event.target)) close(false);
    };

    const choose = (date) => {
      input.value = formatted(date);
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
      close(true);
    };

    const button = (className, text, labelText) => {
      const element = document.createElement("button");
      element.type = "button";
      element.className = className;
      element.textContent = text;
      if (labelText) element.setAttribute("aria-label", labelText);
      return element;
    };

    const draw = (moveFocus) => {
      const [year, month] = shown;
      popup.querySelector(".datepicker-title").textContent = `${texts.months[month - 1]} ${digits(year)}`;
      const body = popup.querySelector("tbody");
      body.replaceChildren();
      const chosen = parse(input.value);
      let row = document.createElement("tr");
      for (let blank = 0; blank < weekday(year, month, 1); blank += 1) row.append(document.createElement("td"));
      for (let day = 1; day <= monthLength(year, month); day += 1) {
        const date = [year, month, day];
        const cell = document.createElement("td");
        const dayButton = button("datepicker-day", digits(day), spoken(date));
        dayButton.dataset.day = String(day);
        dayButton.tabIndex = same(date, focused) ? 0 : -1;
        dayButton.setAttribute("aria-pressed", String(same(date, chosen)));
        if (same(date, texts.today)) dayButton.setAttribute("aria-current", "date");
        dayButton.addEventListener("click", () => choose(date));
        cell.append(dayButton);
        row.append(cell);
        if (weekday(...date) === 6) {
          body.append(row);
          row = document.createElement("tr");
        }
      }
      if (row.children.length) body.append(row);
      if (moveFocus) body.querySelector('[tabindex="0"]').focus();
    };

    const show = (date, moveFocus = true) => {
      focused = date;
      shown = [date[0], date[1]];
      draw(moveFocus);
    };

    const shiftMonth = (step) => {
      let [year, month] = shown;
      month += step;
      if (month < 1) [year, month] = [year - 1, 12];
      if (month > 12) [year, month] = [year + 1, 1];
      return [year, month, Math.min(focused[2], monthLength(year, month))];
    };

    const open = () => {
      popup = document.createElement("div");
      popup.className = "datepicker";
      popup.setAttribute("role", "dialog");
      popup.setAttribute("aria-labelledby", titleId);
      const head = document.createElement("div");
      head.className = "datepicker-head";
      // Each arrow points the way its month lies: in a right-to-left page the earlier month is to
      // the right. Drawn, not typed: fonts and bidi mirroring disagree on which way ‹ › point.
      const rtl = getComputedStyle(wrap).direction === "rtl";
      const arrow = (pointsRight) =>
        `<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"><path d="${
          pointsRight ? "M9 5l7 7-7 7" : "M15 5l-7 7 7 7"
        }" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
      const previous = button("button datepicker-previous", "", texts.previousMonth);
      const next = button("button datepicker-next", "", texts.nextMonth);
      previous.innerHTML = arrow(rtl);
      next.innerHTML = arrow(!rtl);
      const title = document.createElement("p");
      title.className = "datepicker-title";
      title.id = titleId;
      title.setAttribute("aria-live", "polite");
      head.append(previous, title, next);
      const grid = document.createElement("table");
      grid.className = "datepicker-grid";
      grid.setAttribute("role", "grid");
      grid.setAttribute("aria-labelledby", titleId);
      const headRow = document.createElement("tr");
      texts.weekdays.forEach((initial, index) => {
        const cell = document.createElement("th");
        cell.scope = "col";
        cell.abbr = texts.weekdayNames[index];
        cell.textContent = initial;
        headRow.append(cell);
      });
      grid.createTHead().append(headRow);
      grid.append(document.createElement("tbody"));
      const foot = document.createElement("div");
      foot.className = "datepicker-foot";
      const today = button("button datepicker-today", texts.todayButton);
      const closer = button("button datepicker-close", texts.close);
      foot.append(today, closer);
      popup.append(head, grid, foot);
      wrap.append(popup);
      toggle.setAttribute("aria-expanded", "true");

      previous.addEventListener("click", () => show(shiftMonth(-1), false));
      next.addEventListener("click", () => show(shiftMonth(1), false));
      today.addEventListener("click", () => show(texts.today));
      closer.addEventListener("click", () => close(true));
      popup.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          close(true);
        }
      });
      grid.addEventListener("keydown", (event) => {
        // In a right-to-left page the week runs from right to left, so the left arrow is tomorrow.
        const forward = getComputedStyle(grid).direction === "rtl" ? "ArrowLeft" : "ArrowRight";
        const backward = forward === "ArrowLeft" ? "ArrowRight" : "ArrowLeft";
        const moves = {
          [forward]: () => addDays(focused, 1),
          [backward]: () => addDays(focused, -1),
          ArrowDown: () => addDays(focused, 7),
          ArrowUp: () => addDays(focused, -7),
          Home: () => addDays(focused, -weekday(...focused)),
          End: () => addDays(focused, 6 - weekday(...focused)),
          PageUp: () => shiftMonth(-1),
          PageDown: () => shiftMonth(1),
        };
        if (!moves[event.key]) return;
        event.preventDefault();
        show(moves[event.key]());
      });
      popup.addEventListener("focusout", (event) => {
        if (popup && event.relatedTarget && !wrap.contains(event.relatedTarget)) close(false);
      });
      document.addEventListener("pointerdown", outside, true);
      show(parse(input.value) || texts.today);
    };

    toggle.addEventListener("click", () => (popup ? close(true) : open()));
  };

  const start = (root) => {
    const node = document.getElementById("apply-texts");
    if (!node) return;
    const texts = JSON.parse(node.textContent);
    for (const input of root.querySelectorAll("input[data-jalali-date]")) enhance(input, texts);
  };

  document.addEventListener("DOMContentLoaded", () => start(document));
  // A row added to a repeated group (apply.js) brings its own date boxes.
  document.addEventListener("apply:row-added", (event) => start(event.target));
})();
