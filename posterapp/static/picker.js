// The picker's live behaviour: two full-screen steps (pick, then name and layout), counting
// picks within the limits, search, the city's local choices first, a name counter that counts
// like the server, a live preview, keeping everything across Back and a busy server (429).
// Without this script the form still works as one long page: the server checks it all again.
(function () {
  "use strict";
  // Loaded async (it must not hold up the first paint on a slow network): wait for the form.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  function start() {
    if (window.performance && performance.mark) performance.mark("picker-start");
    var form = document.getElementById("picker");
    if (!form) return;
    document.documentElement.classList.add("js");
    var $ = function (id) { return document.getElementById(id); };
    var all = function (selector) { return Array.prototype.slice.call(form.querySelectorAll(selector)); };
    var min = Number(form.dataset.min), max = Number(form.dataset.max);
    var nameMax = Number(form.dataset.nameMax);
    var version = form.dataset.version;
    var regionLabels = JSON.parse(form.dataset.regionLabels || "{}");
    var boxes = all('input[name="choices"]');
    var count = $("count"), hint = $("hint"), make = $("make"), next = $("next");
    var nameInput = $("name"), nameCount = $("name-count"), nameCounter = $("name-counter");
    var preview = $("preview");
    var layoutLabels = all(".layout-option[data-min]");
    var local = $("group-local");
    var groups = all(".group");
    var storeKey = "posterapp.picker." + version;
    var hintText = "";
    var retryTimer = null;

    // ---- words -----------------------------------------------------------------------------
    // The script speaks Chinese; the page carries the person's language as a table from each
    // Chinese sentence to its translation (empty for Chinese), placeholders like %(count)s.
    var words = {};
    try { words = JSON.parse(document.getElementById("picker-words").textContent) || {}; } catch (e) { words = {}; }
    function t(source, values) {
      var text = Object.prototype.hasOwnProperty.call(words, source) ? words[source] : source;
      return text.replace(/%\((\w+)\)s/g, function (whole, key) {
        return values && key in values ? values[key] : whole;
      });
    }

    // ---- counting --------------------------------------------------------------------------
    var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter("zh", { granularity: "grapheme" }) : null;
    function graphemes(text) {
      // The server counts grapheme clusters (an emoji with its joiners is one character).
      text = text.trim().replace(/\s+/g, " ");
      if (segmenter) return Array.from(segmenter.segment(text)).length;
      return Array.from(text.replace(/\u200d./gu, "").replace(/[\ufe0f\u{1f3fb}-\u{1f3ff}]/gu, "")).length;
    }

    function picked() {
      return boxes.filter(function (box) { return box.checked; });
    }

    function setHint(text) {
      hintText = text;
      if (!retryTimer) hint.textContent = text;
    }

    var last = -1;
    function update() {
      var n = picked().length;
      count.textContent = n;
      if (last !== -1 && n !== last) {
        count.classList.remove("bump");
        void count.offsetWidth; // restart the animation
        count.classList.add("bump");
      }
      last = n;
      boxes.forEach(function (box) {
        box.disabled = !box.checked && n >= max;
        box.closest(".choice").classList.toggle("is-checked", box.checked);
      });
      next.disabled = n < min;
      make.disabled = n < min;
      if (n < min) setHint(t("再选 %(count)s 项就能生成", { count: min - n }));
      else if (n >= max) setHint(t("已选满 %(count)s 项", { count: max }));
      else setHint(t("还可以再选 %(count)s 项", { count: max - n }));
      layoutLabels.forEach(function (label) {
        var radio = label.querySelector("input");
        var fits = n >= Number(label.dataset.min) && n <= Number(label.dataset.max);
        radio.disabled = !fits;
        if (!fits && radio.checked) form.querySelector('input[name="layout"][value=""]').checked = true;
      });
    }

    // ---- search, city, tabs ----------------------------------------------------------------
    // Descriptions are searched too, but not shipped in the page (a fifth of its bytes): they
    // come from the catalog API the first time someone searches.
    var descriptions = null;
    function loadDescriptions() {
      if (descriptions || !window.fetch) return;
      descriptions = {};
      fetch("/api/catalog").then(function (response) { return response.json(); }).then(function (catalog) {
        catalog.choices.forEach(function (choice) { descriptions[choice.id] = choice.description || ""; });
        search($("search").value);
      }).catch(function () { descriptions = null; });
    }
    function searchText(choice) {
      var id = choice.querySelector("input").value;
      var extra = descriptions && descriptions[id] ? " " + descriptions[id] : "";
      return (choice.textContent + extra).replace(/\s+/g, " ").toLowerCase();
    }
    function home(choice) {
      return document.getElementById("group-" + choice.className.match(/\bcat-(\S+)/)[1]);
    }

    function search(query) {
      var q = query.trim().toLowerCase();
      var shown = 0;
      boxes.forEach(function (box) {
        var choice = box.closest(".choice");
        choice.hidden = q !== "" && searchText(choice).indexOf(q) === -1;
        if (!choice.hidden) shown += 1;
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector(".choice:not([hidden])");
      });
      $("no-results").hidden = shown > 0;
    }

    function showCity(city) {
      var list = local.querySelector(".choices");
      Array.prototype.slice.call(list.children).forEach(function (choice) {
        home(choice).querySelector(".choices").appendChild(choice);
      });
      boxes.forEach(function (box) {
        var choice = box.closest(".choice");
        if (city && choice.dataset.region === city) list.appendChild(choice);
      });
      local.querySelector("h3").textContent = city ? t("%(city)s · 本地精选", { city: regionLabels[city] }) : "";
      local.hidden = !city || !list.children.length;
      $("tab-local").hidden = local.hidden;
      $("tab-local").textContent = city ? "📍" + regionLabels[city] : "";
      search($("search").value);
    }

    var tabs = all(".tab");
    if (window.IntersectionObserver) {
      var seen = {};
      var observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) { seen[entry.target.id] = entry.isIntersecting; });
        var current = groups.filter(function (g) { return seen[g.id] && !g.hidden; })[0];
        tabs.forEach(function (tab) {
          tab.classList.toggle("is-current", !!current && tab.getAttribute("href") === "#" + current.id);
        });
      }, { rootMargin: "-50px 0px -60% 0px" });
      groups.forEach(function (group) { observer.observe(group); });
    }

    // ---- steps -----------------------------------------------------------------------------
    var pickScroll = 0;
    function showStep(step, focus) {
      if (String(form.dataset.step) === String(step)) return;
      if (step === 2) pickScroll = window.scrollY;
      form.dataset.step = step;
      markStep(step);
      if (step === 2) {
        window.scrollTo(0, 0); // the header is folded to its step indicator
        refreshPreview(true);
        if (focus) $("step-2").focus({ preventScroll: true });
      } else {
        window.scrollTo(0, pickScroll);
      }
    }
    function markStep(step) {
      document.body.setAttribute("data-step", step); // step two folds the header away
      [1, 2].forEach(function (i) {
        if (i === step) $("step-mark-" + i).setAttribute("aria-current", "step");
        else $("step-mark-" + i).removeAttribute("aria-current");
      });
    }
    function stepFromHash() {
      showStep(location.hash === "#step-2" ? 2 : 1, true);
    }
    window.addEventListener("hashchange", stepFromHash);
    next.hidden = false;
    next.addEventListener("click", function () {
      if (picked().length < min) return;
      location.hash = "step-2"; // a history entry: the phone's Back returns to the grid
    });

    // ---- name ------------------------------------------------------------------------------
    var serverNameError = null;
    function showFieldError(field, message) {
      var target = field === "name" ? nameInput : field === "layout" ? $("layouts") : null;
      var box = $(field + "-error");
      if (!box && field !== "choices") {
        // No such field on this page (a campaign that picks the layout itself): say it on top.
        return message ? showFieldError("choices", message) : null;
      }
      if (!box && !message) return null;
      if (!box) {
        box = document.createElement("p");
        box.className = "error";
        box.id = "choices-error";
        box.setAttribute("role", "alert");
        box.tabIndex = -1;
        $("step-1").insertBefore(box, $("no-results"));
      }
      box.hidden = !message;
      box.textContent = message || "";
      if (target) {
        var described = (target.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
          return id && id !== box.id;
        });
        if (message) described.push(box.id);
        if (described.length) target.setAttribute("aria-describedby", described.join(" "));
        else target.removeAttribute("aria-describedby");
        if (field === "name") target.setAttribute("aria-invalid", message ? "true" : "false");
      }
      return target || box;
    }

    function nameTooLong() {
      return graphemes(nameInput.value) > nameMax;
    }
    function checkName() {
      var n = graphemes(nameInput.value);
      nameCount.textContent = n;
      nameCounter.classList.toggle("is-over", n > nameMax);
      if (n > nameMax) showFieldError("name", t("名字最多 %(max)s 个字，现在是 %(count)s 个，再短一点吧", { max: nameMax, count: n }));
      else if (!serverNameError) showFieldError("name", "");
    }

    // ---- live preview ----------------------------------------------------------------------
    var previewTimer = null;
    function previewUrl() {
      var layout = form.querySelector('input[name="layout"]:checked');
      var params = new URLSearchParams({
        v: version,
        choices: picked().map(function (box) { return box.value; }).join(","),
        name: nameInput.value,
        layout: layout ? layout.value : "",
      });
      // The page says where previews are (data-preview); the query is the picks of the moment.
      return form.dataset.preview.split("?")[0] + "?" + params.toString();
    }
    var wanted = "";
    function refreshPreview(now) {
      clearTimeout(previewTimer);
      if (form.dataset.step !== "2" || picked().length < min || nameTooLong()) return;
      previewTimer = setTimeout(function () {
        var url = previewUrl();
        if (url === wanted) return;
        wanted = url;
        preview.setAttribute("aria-busy", "true");
        // Load it aside, so a refused preview leaves the last good picture in place.
        var next = new Image();
        next.onload = function () {
          if (url !== wanted) return;
          preview.src = url;
          preview.removeAttribute("aria-busy");
          if (serverNameError) { serverNameError = null; checkName(); }
        };
        next.onerror = function () { explain(url); };
        next.src = url;
      }, now ? 0 : 350);
    }
    function explain(url) {
      // The preview checks what making the poster checks; ask the server for its words.
      fetch(url).then(function (response) { return response.json(); }).then(function (body) {
        if (url !== wanted) return;
        preview.removeAttribute("aria-busy");
        if (!body || !body.error) return;
        var field = body.error.field === "name" || body.error.field === "layout" ? body.error.field : "choices";
        if (field === "name") serverNameError = body.error.message;
        showFieldError(field, body.error.message);
      }).catch(function () { preview.removeAttribute("aria-busy"); });
    }

    // ---- remembering (Back, with or without the back-forward cache) -------------------------
    function save() {
      try {
        var layout = form.querySelector('input[name="layout"]:checked');
        sessionStorage.setItem(storeKey, JSON.stringify({
          choices: picked().map(function (box) { return box.value; }),
          city: $("city").value,
          name: nameInput.value,
          layout: layout ? layout.value : "",
        }));
      } catch (e) { /* private mode: nothing to keep */ }
    }
    function restore() {
      var state = null;
      try { state = JSON.parse(sessionStorage.getItem(storeKey) || "null"); } catch (e) { state = null; }
      if (!state) return;
      if (state.city) $("city").value = state.city;
      boxes.forEach(function (box) { box.checked = state.choices.indexOf(box.value) !== -1; });
      nameInput.value = state.name || "";
      var radio = form.querySelector('input[name="layout"][value="' + (state.layout || "").replace(/[^a-z0-9-]/g, "") + '"]');
      if (radio) radio.checked = true;
    }

    // ---- making the poster, keeping everything when the server is busy ----------------------
    function busy(on, label) {
      if (on) form.setAttribute("aria-busy", "true");
      else form.removeAttribute("aria-busy");
      make.textContent = label || t("生成我的海报");
    }
    function countdown(seconds) {
      clearInterval(retryTimer);
      var left = Math.max(1, Math.min(seconds, 300));
      var tick = function () {
        hint.textContent = t("人有点多，%(seconds)s 秒后重试", { seconds: left });
        if (left-- <= 0) { stopCountdown(); submit(); }
      };
      retryTimer = setInterval(tick, 1000);
      tick();
      busy(false, t("马上重试"));
      make.disabled = false;
    }
    function stopCountdown() {
      clearInterval(retryTimer);
      retryTimer = null;
      hint.textContent = hintText;
    }
    function applyServerError(html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var sent = page.getElementById("picker");
      var field = sent ? sent.dataset.errorField : "";
      var source = field && page.getElementById(field + "-error");
      var message = source ? source.textContent.trim() : t("出了点小问题，请再试一次");
      // replaceState, not location.hash: a hashchange would move the focus after we set it.
      var step = field === "name" || field === "layout" ? 2 : 1;
      history.replaceState(null, "", "#step-" + step);
      showStep(step);
      if (field === "name") serverNameError = message;
      var target = showFieldError(field === "name" || field === "layout" ? field : "choices", message);
      if (field === "layout") target = form.querySelector('input[name="layout"]:checked') || target;
      target.focus();
    }
    function submit() {
      stopCountdown();
      if (nameTooLong()) {
        history.replaceState(null, "", "#step-2");
        showStep(2);
        checkName();
        nameInput.focus();
        return;
      }
      busy(true, t("正在生成你的海报…"));
      make.disabled = true;
      var body = new URLSearchParams(new FormData(form));
      body.delete("q");
      fetch(form.action, { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
        if (response.ok && response.url.indexOf(form.dataset.share) !== -1) {
          location.assign(response.url);
          return;
        }
        busy(false);
        update();
        if (response.status === 429 || response.status === 503) {
          countdown(parseInt(response.headers.get("Retry-After"), 10) || 5);
          return;
        }
        return response.text().then(applyServerError);
      }).catch(function () {
        busy(false);
        update();
        hint.textContent = t("网络不太稳，再点一次试试");
      });
    }

    // ---- events ----------------------------------------------------------------------------
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.name === "choices") update();
      if (target.id === "city") showCity(target.value);
      if (target.name === "choices" || target.name === "layout") {
        if ($("choices-error")) showFieldError("choices", "");
        showFieldError("layout", "");
        refreshPreview();
      }
      save();
    });
    nameInput.addEventListener("input", function () {
      serverNameError = null;
      checkName();
      refreshPreview();
      save();
    });
    $("search").addEventListener("input", function (event) {
      loadDescriptions();
      search(event.target.value);
    });
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      var target = event.target;
      // Enter filters in the search box, and toggles a choice or a layout: it never sends the form.
      if (target.id === "search") event.preventDefault();
      if (target.type === "checkbox" || target.type === "radio") {
        event.preventDefault();
        if (!target.disabled) target.click();
      }
    });
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.URLSearchParams || !window.FormData) {
        busy(true, t("正在生成你的海报…"));
        return; // the plain form post still works
      }
      event.preventDefault();
      submit();
    });
    window.addEventListener("pageshow", function () {
      busy(false);
      stopCountdown();
      update();
    });

    // ---- start -----------------------------------------------------------------------------
    var errorField = form.dataset.errorField;
    // After an error the page the server sent is the truth; otherwise this tab's last state is
    // (the browser may have restored some fields itself, but never the city's reordering).
    if (!errorField) restore();
    showCity($("city").value);
    update();
    checkName();
    if (errorField === "name" || errorField === "layout") {
      history.replaceState(null, "", "#step-2");
      showStep(2);
      var focusTarget = errorField === "name" ? nameInput : form.querySelector('input[name="layout"]:checked');
      if (focusTarget) focusTarget.focus();
    } else {
      form.dataset.step = location.hash === "#step-2" && picked().length >= min ? 2 : 1;
      if (form.dataset.step === "1" && location.hash === "#step-2") history.replaceState(null, "", "#step-1");
      markStep(Number(form.dataset.step));
      if (form.dataset.step === "2") refreshPreview(true);
      if (errorField) $("choices-error").focus();
    }
    save();
    if (window.performance && performance.mark) performance.mark("picker-ready"); // bench/h5.py
  }
})();
