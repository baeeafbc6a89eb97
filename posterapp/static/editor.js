// The catalog editor: checks the YAML as staff type (the same checks as `posterapp validate`),
// lists every problem with its line (click to jump there), and previews posters on request.
(function () {
  "use strict";
  var source = document.getElementById("source");
  if (!source) return;
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var check = document.getElementById("check");
  var summary = document.getElementById("check-summary");
  var list = document.getElementById("check-problems");
  var previews = document.getElementById("previews");
  var previewButton = document.getElementById("preview-button");
  var timer = null, sent = 0;

  function post(url) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ source: source.value }),
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function jumpTo(line) {
    var lines = source.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    source.focus();
    source.setSelectionRange(start, start + (lines[line - 1] || "").length);
    source.scrollTop = Math.max(0, (line - 5) * 20);
  }

  function show(result) {
    list.textContent = "";
    check.classList.toggle("ok", result.ok);
    summary.textContent = result.ok ? result.summary : result.problems.length + " 个问题需要修改：";
    result.problems.forEach(function (problem) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "第 " + problem.line + " 行 " + (problem.path ? problem.path + "：" : "") +
        problem.message;
      button.addEventListener("click", function () { jumpTo(problem.line); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function validate() {
    var mine = ++sent;
    summary.textContent = "正在检查…";
    post("/admin/api/validate").then(function (result) {
      if (mine === sent) show(result);
    }, function () {
      summary.textContent = "检查失败：请确认仍处于登录状态，然后刷新页面。";
    });
  }

  function preview() {
    previewButton.disabled = true;
    previewButton.textContent = "正在生成预览…";
    post("/admin/api/preview").then(function (result) {
      show(result.ok ? { ok: true, problems: [], summary: summary.textContent } : result);
      previews.textContent = "";
      (result.previews || []).forEach(function (item) {
        var figure = document.createElement("figure");
        var image = document.createElement("img");
        image.src = item.image;
        image.alt = item.label + "排版预览";
        image.dataset.layout = item.layout;
        var caption = document.createElement("figcaption");
        caption.textContent = item.label + "（" + item.layout + "）";
        figure.appendChild(image);
        figure.appendChild(caption);
        previews.appendChild(figure);
      });
    }).catch(function () {
      previews.textContent = "预览失败，请稍后再试。";
    }).then(function () {
      previewButton.disabled = false;
      previewButton.textContent = "预览海报";
    });
  }

  source.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(validate, 500);
  });
  previewButton.addEventListener("click", preview);
  validate();
})();
