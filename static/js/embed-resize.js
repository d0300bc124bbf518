// The embeddable view tells the page that frames it how tall it is, so that a page which
// opts in (by listening for this message, see README "Embedding a chart") can size the
// frame to fit its content. Only the height is sent; nothing is read from the framing page.
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function send() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "trafficking-portal-embed", height: height,
      src: window.location.href }, "*");
  }
  window.addEventListener("load", send);
  if (window.ResizeObserver) new ResizeObserver(send).observe(document.body);
  else window.addEventListener("resize", send);
})();
