// Share page: the Web Share API where the browser has it (with the image file where it can),
// copy link with a fallback, and the long-press hint inside WeChat, which has neither.
(function () {
  "use strict";
  var page = document.getElementById("share");
  if (!page) return;
  var url = page.dataset.url, image = page.dataset.image, title = page.dataset.title;
  var toast = document.getElementById("toast");
  // The script speaks Chinese; the page carries a table of the person's language (see picker.js).
  var words = {};
  try { words = JSON.parse(document.getElementById("share-words").textContent) || {}; } catch (e) { words = {}; }
  function t(source) {
    return Object.prototype.hasOwnProperty.call(words, source) ? words[source] : source;
  }
  var inWeChat = /MicroMessenger/i.test(navigator.userAgent);
  if (inWeChat) document.body.classList.add("in-wechat");

  function say(text) {
    toast.textContent = text;
  }

  var shareButton = document.getElementById("share-button");
  if (navigator.share && !inWeChat) {
    shareButton.hidden = false;
    shareButton.addEventListener("click", function () {
      var plain = function () { return navigator.share({ title: title, url: url }); };
      var attempt = plain;
      if (navigator.canShare && window.File) {
        attempt = function () {
          return fetch(image).then(function (response) { return response.blob(); })
            .then(function (blob) {
              var file = new File([blob], "poster.png", { type: "image/png" });
              if (navigator.canShare({ files: [file] })) {
                return navigator.share({ files: [file], title: title, url: url });
              }
              return plain();
            });
        };
      }
      attempt().catch(function (error) {
        if (error && error.name !== "AbortError") say(t("分享没有成功，可以长按图片保存后分享"));
      });
    });
  }

  var link = document.getElementById("share-link");
  document.getElementById("copy-button").addEventListener("click", function () {
    var fallback = function () {
      link.focus();
      link.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? t("链接已复制") : t("请长按上面的链接复制"));
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(function () { say(t("链接已复制")); }, fallback);
    } else {
      fallback();
    }
  });
})();
