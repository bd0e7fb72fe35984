// Sends the pressed button's name/value with the form and prevents double submits.
document.querySelectorAll("form").forEach(function (f) {
  f.addEventListener("submit", function (e) {
    var b = e.submitter;
    if (b && b.name) { var h = document.createElement("input"); h.type = "hidden"; h.name = b.name; h.value = b.value; f.appendChild(h); }
    f.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
  });
});
// A page restored from the back/forward cache (Back after a decision) shows the link as it was
// then: load it again, so it shows where the link stands now.
window.addEventListener("pageshow", function (e) {
  if (e.persisted) { location.reload(); }
});
// A page answered to a form (a refusal shown in place: a wrong password, a decision not taken)
// is a POST in the history: a reload would send the form again. Made a GET of the same address,
// a reload loads the link instead (the server sends a form's address back to the link).
if (history.replaceState) { history.replaceState(null, "", location.href); }
