// Files in the application form, sent one at a time as soon as each is chosen. The form's upload
// URL (data-upload-url) checks the file with the same rules as the server's form and keeps it with
// the draft; a progress bar follows the upload and a status line says how far it got in words, for
// screen readers too. A row added to a repeated group (apply.js) brings its own controls, bound
// when it arrives. Without this file the form is a plain multipart form: the files go with it
// and the server keeps them the same way, so nothing here is needed to apply.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector(".apply-form[data-upload-url]");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const textsNode = document.getElementById("apply-texts");
  const texts = textsNode ? JSON.parse(textsNode.textContent) : {};
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const url = form.dataset.uploadUrl;
  const persian = (text) => (texts.persianDigits ? String(text).replace(/\d/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : String(text));
  const uploading = (percent) => (texts.uploading || "{percent}%").replace("{percent}", persian(percent));

  const partsOf = (box) => ({
    input: box.querySelector("input[type=file]"),
    kept: box.querySelector(".upload-kept"),
    name: box.querySelector(".upload-name"),
    size: box.querySelector(".upload-size"),
    bar: box.querySelector(".upload-progress"),
    progress: box.querySelector("progress"),
    percent: box.querySelector(".upload-percent"),
    status: box.querySelector(".upload-status"),
    error: box.querySelector(".error"),
  });

  const showError = (box, message) => {
    const parts = partsOf(box);
    parts.error.textContent = message || "";
    parts.error.hidden = !message;
    box.classList.toggle("field-invalid", Boolean(message));
    const described = new Set((parts.input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
    if (message) {
      parts.input.setAttribute("aria-invalid", "true");
      described.add(parts.error.id);
    } else {
      parts.input.removeAttribute("aria-invalid");
      described.delete(parts.error.id);
    }
    parts.input.setAttribute("aria-describedby", [...described].join(" "));
  };

  // One request to the upload URL; `done(ok, answer)` gets the parsed JSON (or null).
  const post = (box, body, onProgress, done) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("X-CSRFToken", csrf);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.responseType = "json";
    if (onProgress) request.upload.addEventListener("progress", onProgress);
    request.addEventListener("load", () => {
      const answer = request.response && typeof request.response === "object" ? request.response : null;
      done(request.status === 200 && answer !== null && !answer.error, answer);
    });
    request.addEventListener("error", () => done(false, null));
    request.addEventListener("abort", () => done(false, null));
    request.send(body);
  };

  const bind = (box) => {
    const parts = partsOf(box);
    let lastSpoken = -1;

    parts.input.addEventListener("change", () => {
      const file = parts.input.files && parts.input.files[0];
      if (!file) return;
      const max = parseInt(box.dataset.maxBytes || "0", 10);
      if (max && file.size > max) {
        // Said at once instead of after sending megabytes the server would refuse anyway.
        showError(box, box.dataset.tooLarge);
        parts.status.textContent = "";
        parts.input.value = "";
        return;
      }
      showError(box, "");
      const body = new FormData();
      body.append("slot", box.dataset.upload);
      body.append("file", file, file.name);
      parts.progress.value = 0;
      parts.percent.textContent = "";
      parts.bar.hidden = false;
      box.setAttribute("aria-busy", "true");
      lastSpoken = 0;
      parts.status.textContent = uploading(0);
      const progressed = (event) => {
        if (!event.lengthComputable || !event.total) return;
        const percent = Math.min(100, Math.floor((event.loaded / event.total) * 100));
        parts.progress.value = percent;
        parts.percent.textContent = persian(percent) + (texts.persianDigits ? "٪" : "%");
        // The bar moves with every event; the words only every quarter, or a screen reader
        // would read out a number a few times a second.
        if (percent - lastSpoken >= 25 || (percent === 100 && lastSpoken < 100)) {
          lastSpoken = percent;
          parts.status.textContent = uploading(percent);
        }
      };
      post(box, body, progressed, (ok, answer) => {
        box.removeAttribute("aria-busy");
        // The file is kept on the server (or refused): it must not go with the form again.
        parts.input.value = "";
        parts.bar.hidden = true;
        if (ok) {
          parts.name.textContent = answer.name;
          parts.size.textContent = answer.size;
          parts.kept.hidden = false;
          parts.status.textContent = answer.message || texts.uploaded || "";
        } else {
          parts.status.textContent = "";
          showError(box, (answer && answer.error) || texts.uploadFailed || "");
        }
      });
    });

    const remove = box.querySelector(".upload-remove");
    if (remove) {
      remove.addEventListener("click", (event) => {
        event.preventDefault();
        const body = new FormData();
        body.append("slot", box.dataset.upload);
        body.append("remove", "1");
        post(box, body, null, (ok, answer) => {
          if (ok) {
            parts.kept.hidden = true;
            parts.bar.hidden = true;
            parts.status.textContent = answer.message || texts.removed || "";
            showError(box, "");
            parts.input.focus();
          } else {
            showError(box, (answer && answer.error) || texts.uploadFailed || "");
          }
        });
      });
    }
  };

  form.querySelectorAll("[data-upload]").forEach(bind);
  form.addEventListener("apply:row-added", (event) => event.target.querySelectorAll("[data-upload]").forEach(bind));
});
