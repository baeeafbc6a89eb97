// The catalog editor. Checks the YAML as staff type (the same checks as `posterapp validate`),
// lists every problem and warning by line and choice (click to jump there), and keeps the
// draft on the server as they type, so that nothing is lost to an upload, a reload, an ended
// session or a conflict with someone else's publish.
(function () {
  "use strict";
  var source = document.getElementById("source");
  if (!source) return;
  var form = document.getElementById("editor-form");
  var account = form.dataset.account || "";
  var baseInput = document.getElementById("base");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var check = document.getElementById("check");
  var summary = document.getElementById("check-summary");
  var list = document.getElementById("check-problems");
  var warningList = document.getElementById("check-warnings");
  var warningTitle = document.getElementById("warnings-title");
  var previews = document.getElementById("previews");
  var previewButton = document.getElementById("preview-button");
  var publishButton = document.getElementById("publish-button");
  var gutter = document.getElementById("gutter");
  var saveState = document.getElementById("save-state");
  var sessionBox = document.getElementById("session-box");
  var backupKey = "posterapp.draft." + account;
  var timer = null, sent = 0, saved = source.value, saving = null, tabCaptured = true;

  // --- talking to the server ---------------------------------------------------------------

  function Expired() { this.expired = true; }

  function request(url, body, method) {
    return fetch(url, {
      method: method || "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    }).then(function (response) {
      if (response.status === 401) throw new Expired();
      return response.json().then(function (data) {
        data.status = response.status;
        return data;
      }, function () {
        // Not JSON: a CSRF refusal after signing in elsewhere, or a proxy page.
        if (response.status === 400) throw new Expired();
        throw new Error("HTTP " + response.status);
      });
    });
  }

  function payload() {
    return { source: source.value, base: Number(baseInput.value) };
  }

  function time(iso) {
    var date = iso ? new Date(iso) : new Date();
    return date.toLocaleTimeString("zh-CN", { hour12: false });
  }

  // --- drafts ------------------------------------------------------------------------------

  function dirty() { return source.value !== saved; }

  function backup() {
    try {
      localStorage.setItem(backupKey, JSON.stringify({ source: source.value, base: baseInput.value }));
    } catch (e) { /* private mode: the text is still on the page */ }
  }

  function dropBackup() {
    try { localStorage.removeItem(backupKey); } catch (e) { /* nothing to drop */ }
  }

  function save() {
    if (!dirty() && !saving) return Promise.resolve();
    var text = source.value;
    saveState.textContent = "正在保存草稿…";
    saving = request("/admin/api/draft", payload()).then(function (result) {
      saving = null;
      if (!result.ok) {
        saveState.textContent = "草稿没有保存：" + ((result.error && result.error.message) || "请稍后再试");
        backup();
        return;
      }
      saved = text;
      if (!dirty()) dropBackup();
      saveState.textContent = "草稿已保存 " + time(result.updated_at);
      saveState.dataset.savedAt = time(result.updated_at);
    }, function (error) {
      saving = null;
      backup();
      if (error && error.expired) expired();
      else saveState.textContent = "草稿暂时没存上（网络问题？），内容还在这里，稍后会再试。";
    });
    return saving;
  }

  function expired() {
    backup();
    document.getElementById("session-saved").textContent = saveState.dataset.savedAt || "（这次打开页面后还没有保存过）";
    sessionBox.hidden = false;
    check.classList.remove("ok");
    check.classList.add("failed");
    summary.textContent = "登录已过期：没有检查，也没有保存。请重新登录后点“继续保存”。";
    saveState.textContent = "修改还没存到服务器（登录已过期）";
  }

  function resume() {
    request("/admin/api/draft", undefined, "GET").then(function (result) {
      token = result.csrf_token;
      document.querySelector('meta[name="csrf-token"]').content = token;
      document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) { input.value = token; });
      sessionBox.hidden = true;
      check.classList.remove("failed");
      saved = null;  // save whatever is on the page now
      save().then(validate);
    }, function (error) {
      if (error && error.expired) {
        summary.textContent = "还没有重新登录：请先在新窗口登录，再点“继续保存”。";
      }
    });
  }

  function restoreBackup() {
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(backupKey) || "null"); } catch (e) { kept = null; }
    if (!kept || typeof kept.source !== "string" || kept.source === source.value) {
      dropBackup();
      return;
    }
    source.value = kept.source;
    if (kept.base) baseInput.value = kept.base;
    saveState.textContent = "已恢复上次没来得及保存到服务器的修改，正在保存…";
    saved = null;
    save();
  }

  // --- the text box: line numbers, Tab -----------------------------------------------------

  function numberLines() {
    var count = source.value.split("\n").length;
    if (gutter.dataset.count === String(count)) return;
    var out = [];
    for (var i = 1; i <= count; i++) out.push(i);
    gutter.textContent = out.join("\n") + "\n";
    gutter.dataset.count = String(count);
  }

  source.addEventListener("scroll", function () { gutter.scrollTop = source.scrollTop; });
  source.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { tabCaptured = false; return; }
    if (event.key !== "Tab" || !tabCaptured || event.ctrlKey || event.altKey || event.metaKey) return;
    event.preventDefault();
    var start = source.selectionStart, end = source.selectionEnd;
    if (event.shiftKey) {
      var lineStart = source.value.lastIndexOf("\n", start - 1) + 1;
      if (source.value.substr(lineStart, 2) === "  ") {
        source.setRangeText("", lineStart, lineStart + 2, "end");
        source.setSelectionRange(Math.max(lineStart, start - 2), Math.max(lineStart, end - 2));
      }
    } else {
      source.setRangeText("  ", start, end, "end");
    }
    source.dispatchEvent(new Event("input"));
  });
  source.addEventListener("focus", function () { tabCaptured = true; });

  // In the form, a problem of a choice opens that choice at its field; otherwise the YAML line.
  function goTo(problem) {
    var found = /^choices\[(\d+)\](?:\.(\w+))?/.exec(problem.path || "");
    if (found && !formView.hidden && model && Number(found[1]) < model.choices.length) {
      selectChoice(Number(found[1]), false);
      var input = document.getElementById("f-" + (found[2] || "label"));
      (input || document.getElementById("f-label")).focus();
      return;
    }
    if (!problem.line) return;
    chooseView("yaml");
    jumpTo(problem.line);
  }

  function jumpTo(line) {
    var lines = source.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    source.focus();
    source.setSelectionRange(start, start + (lines[line - 1] || "").length);
    var height = parseFloat(getComputedStyle(source).lineHeight) || 20;
    source.scrollTop = Math.max(0, (line - 5) * height);
  }

  // --- checking ----------------------------------------------------------------------------

  function problemList(target, problems) {
    target.textContent = "";
    problems.forEach(function (problem) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = problem.text || problem.message;
      button.addEventListener("click", function () { goTo(problem); });
      item.appendChild(button);
      target.appendChild(item);
    });
  }

  function show(result) {
    var problems = result.problems || [], warnings = result.warnings || [];
    check.classList.remove("failed");
    check.classList.toggle("ok", !!result.ok);
    summary.textContent = result.ok
      ? result.summary
      : (result.message || problems.length + " 个问题需要修改（改好之前不能发布）：");
    problemList(list, problems);
    problemList(warningList, warnings);
    warningTitle.hidden = !warnings.length;
  }

  function validate() {
    var mine = ++sent;
    summary.textContent = "正在检查…";
    return request("/admin/api/validate", payload()).then(function (result) {
      if (mine === sent) show(result);
    }, function (error) {
      if (error && error.expired) { expired(); return; }
      check.classList.remove("ok");
      check.classList.add("failed");
      summary.textContent = "这次没有检查成功（网络问题？），修改还在；稍后会再检查。";
    });
  }

  source.addEventListener("input", function () {
    numberLines();
    saveState.textContent = "有修改，马上自动保存…";
    clearTimeout(timer);
    timer = setTimeout(function () { save(); validate(); }, 600);
  });

  function typing() {
    return typeof timers === "object" && Object.keys(timers).some(function (k) { return timers[k]; });
  }

  window.addEventListener("beforeunload", function (event) {
    if (!dirty() && !typing()) return undefined;
    backup();
    event.preventDefault();
    event.returnValue = "";
    return "";
  });

  // --- preview -----------------------------------------------------------------------------

  function preview() {
    previewButton.disabled = true;
    previewButton.textContent = "正在生成预览…";
    request("/admin/api/preview", payload()).then(function (result) {
      if (!result.ok) show(result);
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
    }).catch(function (error) {
      if (error && error.expired) expired();
      else previews.textContent = "预览失败，请稍后再试。";
    }).then(function () {
      previewButton.disabled = false;
      previewButton.textContent = "预览海报";
    });
  }
  previewButton.addEventListener("click", preview);

  // --- publishing and conflicts ------------------------------------------------------------

  var conflictBox = document.getElementById("conflict");
  var conflictChunks = document.getElementById("conflict-chunks");
  var conflictApply = document.getElementById("conflict-apply");
  var conflictLeft = document.getElementById("conflict-left");
  var pending = null;

  function column(title, text) {
    var div = document.createElement("div");
    var heading = document.createElement("h3");
    heading.textContent = title;
    var pre = document.createElement("pre");
    pre.textContent = text || "（这里没有内容）";
    div.appendChild(heading);
    div.appendChild(pre);
    return div;
  }

  function choice(name, value, words) {
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = value;
    input.addEventListener("change", countChoices);
    label.appendChild(input);
    label.appendChild(document.createTextNode(" " + words));
    return label;
  }

  function countChoices() {
    var open = 0;
    pending.chunks.forEach(function (chunk, index) {
      if (chunk.conflict && !conflictChunks.querySelector('input[name="c' + index + '"]:checked')) open++;
    });
    conflictApply.disabled = open > 0;
    conflictLeft.textContent = open ? "还有 " + open + " 处没选" : "都选好了";
  }

  function showConflict(result) {
    var found = result.conflict;
    conflictBox.hidden = false;
    document.getElementById("conflict-message").textContent = result.message;
    conflictChunks.textContent = "";
    pending = found;
    if (!found.conflicts) {
      source.value = found.merged;
      baseInput.value = found.live;
      numberLines();
      conflictApply.hidden = true;
      conflictLeft.textContent = "";
      saved = null;
      save();
      validate();
      if (!formView.hidden) refreshForm();
      return;
    }
    conflictApply.hidden = false;
    var number = 0;
    found.chunks.forEach(function (chunk, index) {
      if (!chunk.conflict) return;
      number++;
      var item = document.createElement("li");
      item.className = "conflict-chunk";
      var heading = document.createElement("p");
      heading.textContent = "第 " + number + " 处：你和别人都改了这里";
      var columns = document.createElement("div");
      columns.className = "three-way";
      columns.appendChild(column("原来的", chunk.base));
      columns.appendChild(column("你的", chunk.mine));
      columns.appendChild(column("别人发布的", chunk.theirs));
      var choices = document.createElement("div");
      choices.className = "conflict-choices";
      choices.appendChild(choice("c" + index, "mine", "用我的"));
      choices.appendChild(choice("c" + index, "theirs", "用别人的"));
      choices.appendChild(choice("c" + index, "both", "两个都要（我的在前）"));
      item.appendChild(heading);
      item.appendChild(columns);
      item.appendChild(choices);
      conflictChunks.appendChild(item);
    });
    countChoices();
    conflictBox.scrollIntoView({ block: "start" });
  }

  conflictApply.addEventListener("click", function () {
    var text = pending.chunks.map(function (chunk, index) {
      if (!chunk.conflict) return chunk.text;
      var picked = conflictChunks.querySelector('input[name="c' + index + '"]:checked').value;
      if (picked === "mine") return chunk.mine;
      if (picked === "theirs") return chunk.theirs;
      return chunk.mine + chunk.theirs;
    }).join("");
    source.value = text;
    baseInput.value = pending.live;
    numberLines();
    conflictChunks.textContent = "";
    conflictApply.hidden = true;
    conflictLeft.textContent = "";
    document.getElementById("conflict-message").textContent =
      "已按你的选择合并到编辑框（草稿已保存）。请检查一遍，再点发布。";
    saved = null;
    save();
    validate();
    if (!formView.hidden) refreshForm();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    publishButton.disabled = true;
    publishButton.textContent = "正在发布…";
    request("/admin/api/publish", payload()).then(function (result) {
      if (result.ok) {
        saved = source.value;
        dropBackup();
        window.location.assign(result.next);
        return;
      }
      if (result.status === 409) { showConflict(result); return; }
      show({
        ok: false,
        message: result.message || (result.error && result.error.message),
        problems: result.problems || [],
        warnings: [],
      });
      check.scrollIntoView({ block: "nearest" });
    }, function (error) {
      if (error && error.expired) expired();
      else summary.textContent = "发布没有成功（网络问题？），修改还在；请稍后再试。";
    }).then(function () {
      publishButton.disabled = false;
      publishButton.textContent = "发布";
    });
  });

  // --- uploads and discarding keep the draft -----------------------------------------------

  var uploadForm = document.getElementById("upload-form");
  if (uploadForm) {
    uploadForm.addEventListener("submit", function (event) {
      // A form field typed into just now may not have reached the draft yet: send it, wait
      // for the form's changes to be saved, save the YAML, and only then leave the page.
      event.preventDefault();
      flushFields();
      queue.then(save).then(function () {
        if (!dirty()) uploadForm.submit();
      });
    });
  }

  var discard = document.getElementById("discard-button");
  if (discard) {
    discard.addEventListener("click", function () {
      if (!window.confirm("放弃草稿后，你没发布的修改都会删掉，确定吗？")) return;
      request("/admin/api/draft/discard", {}).then(function (result) {
        source.value = result.source;
        baseInput.value = result.base;
        saved = source.value;
        dropBackup();
        window.location.reload();
      }, function (error) { if (error && error.expired) expired(); });
    });
  }

  // --- the form: one choice at a time, the YAML kept in step by the server ---------------

  var tabForm = document.getElementById("tab-form");
  var tabYaml = document.getElementById("tab-yaml");
  var formView = document.getElementById("form-view");
  var yamlView = document.getElementById("yaml-view");
  var formError = document.getElementById("form-error");
  var choiceList = document.getElementById("choice-list");
  var choiceForm = document.getElementById("choice-form");
  var legend = document.getElementById("choice-legend");
  var iconPreview = document.getElementById("icon-preview");
  var uploadSelect = document.getElementById("f-upload");
  var fields = ["label", "icon", "description", "category", "region", "link", "id"];
  var model = null, current = null, dragFrom = null, lastProblems = [], timers = {};
  var viewKey = "posterapp.editor.view";

  function chooseView(view) {
    var yaml = view === "yaml";
    formView.hidden = yaml;
    yamlView.hidden = !yaml;
    tabForm.setAttribute("aria-selected", String(!yaml));
    tabYaml.setAttribute("aria-selected", String(yaml));
    try { localStorage.setItem(viewKey, view); } catch (e) { /* not kept */ }
    if (!yaml) refreshForm();
  }
  tabForm.addEventListener("click", function () { if (formView.hidden) chooseView("form"); });
  tabYaml.addEventListener("click", function () { chooseView("yaml"); });

  function formRequest(change) {
    var body = payload();
    if (change) body.change = change;
    return request("/admin/api/form", body).then(function (result) {
      if (!result.ok) {
        formError.textContent = result.message || (result.error && result.error.message) || "表单暂时不能用";
        formError.hidden = false;
        choiceForm.disabled = true;
        return null;
      }
      formError.hidden = true;
      if (change) {
        source.value = result.source;
        saved = result.source;  // the server saved the draft with the change
        saveState.textContent = "草稿已保存 " + time();
        numberLines();
      }
      model = result.form;
      lastProblems = result.problems;
      show({ ok: !result.problems.length, problems: result.problems, warnings: result.warnings,
        summary: result.problems.length ? "" : "没有问题：可以预览或发布" });
      return result;
    }, function (error) {
      if (error && error.expired) expired();
      else { formError.textContent = "表单这次没有更新（网络问题？），请稍后再试。"; formError.hidden = false; }
      return null;
    });
  }

  var refreshing = null;

  function refreshForm() {
    if (refreshing) return refreshing;
    refreshing = queue.then(function () { return formRequest(null); }).then(function (result) {
      refreshing = null;
      if (!result) return;
      if (current !== null && current >= model.choices.length) current = model.choices.length - 1;
      renderList();
      renderCampaign();
      selectChoice(current === null ? 0 : current, false);
    });
    return refreshing;
  }

  // Changes go to the server one after another, each applied to the text the one before made.
  var queue = Promise.resolve();

  function change(what) {
    var done = queue.then(function () { return formRequest(what); });
    queue = done.catch(function () { return null; });
    return done.then(function (result) {
      if (!result) return;
      if (what.op === "campaign") {
        renderCampaign();
      } else if (what.op !== "set") {
        if (result.focus !== null && result.focus !== undefined) current = result.focus;
        renderList();
        selectChoice(current, what.op !== "move");
      } else {
        updateRow(what.index);
        showFieldProblems();
      }
    });
  }

  function isImage(icon) { return /[\/\\]/.test(icon) || /\.(png|jpe?g|webp|svg)$/i.test(icon); }

  function iconNode(icon) {
    var span = document.createElement("span");
    span.className = "choice-icon";
    if (icon && icon.indexOf("uploads/") === 0) {
      var image = document.createElement("img");
      image.src = "/admin/uploads/" + encodeURIComponent(icon.slice(8));
      image.alt = "";
      span.appendChild(image);
    } else {
      span.textContent = isImage(icon || "") ? "🖼" : (icon || "");
    }
    return span;
  }

  function rowText(choice) { return choice.label || choice.id || "（没有名称）"; }

  function renderList() {
    choiceList.textContent = "";
    document.getElementById("choice-count").textContent = model.choices.length;
    model.choices.forEach(function (choice, index) {
      var item = document.createElement("li");
      item.className = "choice-row" + (index === current ? " is-current" : "");
      item.draggable = true;
      item.dataset.index = index;
      var handle = document.createElement("span");
      handle.className = "drag-handle";
      handle.textContent = "⠿";
      handle.setAttribute("aria-hidden", "true");
      var pick = document.createElement("button");
      pick.type = "button";
      pick.className = "choice-pick";
      pick.appendChild(iconNode(choice.icon));
      pick.appendChild(document.createTextNode(rowText(choice)));
      pick.addEventListener("click", function () {
        selectChoice(index, true);
        // On a phone the form is below the list: bring it into view.
        if (window.innerWidth < 720) choiceForm.scrollIntoView({ block: "start" });
      });
      var up = document.createElement("button");
      up.type = "button";
      up.className = "button small move-up";
      up.textContent = "↑";
      up.setAttribute("aria-label", "上移「" + rowText(choice) + "」");
      up.disabled = index === 0;
      up.addEventListener("click", function () { move(index, index - 1); });
      var down = document.createElement("button");
      down.type = "button";
      down.className = "button small move-down";
      down.textContent = "↓";
      down.setAttribute("aria-label", "下移「" + rowText(choice) + "」");
      down.disabled = index === model.choices.length - 1;
      down.addEventListener("click", function () { move(index, index + 1); });
      item.appendChild(handle);
      item.appendChild(pick);
      item.appendChild(up);
      item.appendChild(down);
      item.addEventListener("dragstart", function (event) {
        dragFrom = index;
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", String(index));
      });
      item.addEventListener("dragover", function (event) { event.preventDefault(); item.classList.add("drop-here"); });
      item.addEventListener("dragleave", function () { item.classList.remove("drop-here"); });
      item.addEventListener("drop", function (event) {
        event.preventDefault();
        item.classList.remove("drop-here");
        var from = dragFrom !== null ? dragFrom : Number(event.dataTransfer.getData("text/plain"));
        dragFrom = null;
        if (from !== index) move(from, index);
      });
      choiceList.appendChild(item);
    });
  }

  function updateRow(index) {
    var row = choiceList.children[index];
    if (!row || !model.choices[index]) return;
    var pick = row.querySelector(".choice-pick");
    pick.textContent = "";
    pick.appendChild(iconNode(model.choices[index].icon));
    pick.appendChild(document.createTextNode(rowText(model.choices[index])));
  }

  function move(from, to) {
    if (to < 0 || to >= model.choices.length) return;
    current = from;
    change({ op: "move", index: from, to: to }).then(function () {
      var row = choiceList.children[current];
      var button = row && row.querySelector(to < from ? ".move-up" : ".move-down");
      if (button && !button.disabled) button.focus();
      else if (row) row.querySelector(".choice-pick").focus();
    });
  }

  function options(select, items, value) {
    select.textContent = "";
    var known = false;
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.id;
      option.textContent = item.label + "（" + item.id + "）";
      if (item.id === value) known = true;
      select.appendChild(option);
    });
    if (value && !known) {
      var odd = document.createElement("option");
      odd.value = value;
      odd.textContent = value + "（不存在）";
      select.appendChild(odd);
    }
    select.value = value || "";
  }

  function selectChoice(index, focus) {
    if (!model || !model.choices.length) { choiceForm.disabled = true; return; }
    current = Math.max(0, Math.min(index, model.choices.length - 1));
    var choice = model.choices[current];
    Array.prototype.forEach.call(choiceList.children, function (row, i) {
      row.classList.toggle("is-current", i === current);
    });
    choiceForm.disabled = false;
    legend.textContent = "第 " + (current + 1) + " 个选项：" + rowText(choice) + "（YAML 第 " + choice.line + " 行）";
    fields.forEach(function (name) {
      var input = document.getElementById("f-" + name);
      // Never overwrite what someone is typing (a refresh may answer while they type).
      if (!focus && (timers[name] || document.activeElement === input) && input.dataset.index === String(current)) return;
      input.dataset.index = String(current);
      if (name === "category") options(input, model.categories, choice.category);
      else if (name === "region") options(input, model.regions, choice.region);
      else input.value = choice[name] || "";
    });
    if (uploadSelect) uploadSelect.value = (choice.icon || "").indexOf("uploads/") === 0 ? choice.icon : "";
    previewIcon();
    showFieldProblems();
    if (focus) document.getElementById("f-label").focus();
  }

  function previewIcon() {
    iconPreview.textContent = "";
    iconPreview.appendChild(iconNode(document.getElementById("f-icon").value.trim()));
  }

  // Checks that need no server, in the words staff read, as they type.
  function quickCheck(name, value) {
    var length = Array.from(value).length;
    if (name === "label") {
      if (!value.trim()) return "名称不能是空的";
      if (length > 40) return "名称太长了：最多 40 个字，现在有 " + length + " 个字";
    }
    if (name === "description" && length > 80) return "说明太长了：最多 80 个字，现在有 " + length + " 个字";
    if (name === "icon" && !value.trim()) return "要有一个图标：一个 emoji，或一张上传的图片";
    if (name === "link" && value.trim() && !/^https?:\/\/\S+$/.test(value.trim())) return "链接要以 https:// 或 http:// 开头";
    if (name === "id") {
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(value.trim())) return "编号只能用小写英文字母、数字和单个连字符，比如 wuhan-hot-dry-noodles";
      var taken = model.choices.some(function (c, i) { return i !== current && c.id === value.trim(); });
      if (taken) return "编号 " + value.trim() + " 已经被别的选项用了";
    }
    return "";
  }

  function showFieldProblems() {
    var prefix = "choices[" + current + "].";
    fields.forEach(function (name) {
      var input = document.getElementById("f-" + name);
      var quick = quickCheck(name, input.value);
      var fromServer = lastProblems.filter(function (p) { return p.path === prefix + name; })
        .map(function (p) { return p.message; });
      var text = quick || fromServer.join("；");
      var target = document.getElementById("p-" + name);
      target.textContent = text;
      input.setAttribute("aria-invalid", text ? "true" : "false");
      if (text) input.setAttribute("aria-describedby", "p-" + name);
      else input.removeAttribute("aria-describedby");
    });
  }

  fields.forEach(function (name) {
    var input = document.getElementById("f-" + name);
    var send = function () {
      clearTimeout(timers[name]);
      timers[name] = null;
      if (current === null) return;
      var value = input.value;
      if (model.choices[current][name] === value) return;
      model.choices[current][name] = value;
      change({ op: "set", index: current, field: name, value: value });
    };
    input.addEventListener("input", function () {
      showFieldProblems();
      if (name === "icon") previewIcon();
      clearTimeout(timers[name]);
      timers[name] = setTimeout(send, 500);
    });
    input.addEventListener("change", send);
  });
  // Send what is typed in a field now, not after its pause (before leaving the page).
  function flushFields() {
    if (!model || current === null) return;
    fields.forEach(function (name) {
      var input = document.getElementById("f-" + name);
      var pending = timers[name];
      clearTimeout(pending);
      timers[name] = null;
      if (input.dataset.index !== String(current)) return;
      var choice = model.choices[current];
      if (!choice || (choice[name] || "") === input.value) return;
      if (!pending && document.activeElement !== input) return;
      choice[name] = input.value;
      change({ op: "set", index: current, field: name, value: input.value });
    });
  }
  if (uploadSelect) {
    uploadSelect.addEventListener("change", function () {
      if (!uploadSelect.value) return;
      var icon = document.getElementById("f-icon");
      icon.value = uploadSelect.value;
      icon.dispatchEvent(new Event("change"));
      previewIcon();
    });
  }
  document.getElementById("add-choice").addEventListener("click", function () {
    change({ op: "add", index: current }).then(function () {
      var label = document.getElementById("f-label");
      label.focus();
      label.select();
    });
  });
  document.getElementById("duplicate-choice").addEventListener("click", function () {
    change({ op: "duplicate", index: current });
  });
  document.getElementById("delete-choice").addEventListener("click", function () {
    var choice = model.choices[current];
    if (!window.confirm("删除选项「" + rowText(choice) + "」？发布前都可以在版本历史里找回。")) return;
    change({ op: "delete", index: current });
  });

  function renderCampaign() {
    document.querySelectorAll("[data-campaign]").forEach(function (input) {
      if (document.activeElement !== input) input.value = model.campaign[input.dataset.campaign];
    });
  }
  document.querySelectorAll("[data-campaign]").forEach(function (input) {
    input.addEventListener("change", function () {
      change({ op: "campaign", field: input.dataset.campaign, value: input.value });
    });
  });

  // Hand edits in the YAML reach the form when it is shown again.
  var preferred = null;
  try { preferred = localStorage.getItem(viewKey); } catch (e) { preferred = null; }

  document.getElementById("resume-button").addEventListener("click", resume);
  numberLines();
  restoreBackup();
  validate();
  chooseView(preferred === "yaml" ? "yaml" : "form");
})();
