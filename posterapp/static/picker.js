// The picker's live behaviour: counting picks within the limits, search, the city's local
// choices first, layouts that fit, and a busy state while the poster is made. Without this
// script the form still works: the server checks everything again.
(function () {
  "use strict";
  var form = document.getElementById("picker");
  if (!form) return;
  var min = Number(form.dataset.min), max = Number(form.dataset.max);
  var regionLabels = JSON.parse(form.dataset.regionLabels || "{}");
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="choices"]'));
  var count = document.getElementById("count");
  var hint = document.getElementById("hint");
  var make = document.getElementById("make");
  var layouts = Array.prototype.slice.call(form.querySelectorAll(".layouts label[data-min]"));
  var local = document.getElementById("group-local");
  var groups = Array.prototype.slice.call(form.querySelectorAll(".group"));

  function picked() {
    return boxes.filter(function (box) { return box.checked; }).length;
  }

  function update() {
    var n = picked();
    count.textContent = n;
    boxes.forEach(function (box) {
      box.disabled = !box.checked && n >= max;
      box.closest(".choice").classList.toggle("is-checked", box.checked);
    });
    make.disabled = n < min;
    if (n < min) hint.textContent = "再选 " + (min - n) + " 项就能生成";
    else if (n >= max) hint.textContent = "已选满 " + max + " 项";
    else hint.textContent = "还可以再选 " + (max - n) + " 项";
    layouts.forEach(function (label) {
      var radio = label.querySelector("input");
      var fits = n >= Number(label.dataset.min) && n <= Number(label.dataset.max);
      radio.disabled = !fits;
      label.classList.toggle("is-unavailable", !fits);
      if (!fits && radio.checked) form.querySelector('input[name="layout"][value=""]').checked = true;
    });
  }

  function search(query) {
    var q = query.trim().toLowerCase();
    var shown = 0;
    boxes.forEach(function (box) {
      var choice = box.closest(".choice");
      choice.hidden = q !== "" && choice.dataset.search.indexOf(q) === -1;
      if (!choice.hidden) shown += 1;
    });
    groups.forEach(function (group) {
      var any = group.querySelector(".choice:not([hidden])");
      group.hidden = !any;
    });
    document.getElementById("no-results").hidden = shown > 0;
  }

  function showCity(city) {
    var list = local.querySelector(".choices");
    Array.prototype.slice.call(list.children).forEach(function (choice) {
      document.querySelector("#" + choice.dataset.home + " .choices").appendChild(choice);
    });
    boxes.forEach(function (box) {
      var choice = box.closest(".choice");
      if (city && choice.dataset.region === city) list.appendChild(choice);
    });
    local.querySelector("h2").textContent = city ? regionLabels[city] + " · 本地精选" : "";
    local.hidden = !city || !list.children.length;
    search(document.getElementById("search").value);
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "choices") update();
    if (event.target.id === "city") showCity(event.target.value);
  });
  document.getElementById("search").addEventListener("input", function (event) {
    search(event.target.value);
  });
  form.addEventListener("keydown", function (event) {
    // Enter in the search box filters; it must not send the form.
    if (event.key === "Enter" && event.target.id === "search") event.preventDefault();
  });
  form.addEventListener("submit", function () {
    form.setAttribute("aria-busy", "true");
    make.disabled = true;
    make.textContent = "正在生成…";
  });
  window.addEventListener("pageshow", function () {
    form.removeAttribute("aria-busy");
    make.textContent = "生成我的海报";
    update();
  });
  update();
})();
