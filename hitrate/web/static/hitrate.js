// The dashboard's only script of its own (no inline handlers: the Content-Security-Policy allows none).
document.addEventListener("DOMContentLoaded", function () {
  var lang = document.getElementById("lang");
  if (lang) {
    lang.addEventListener("change", function () { lang.form.submit(); });
  }
});
