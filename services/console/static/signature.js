/* The customer's signature on a <canvas class="signature" data-target="ID">: drawn with a
   finger, a pen or the mouse (pointer events, with touch/mouse fallbacks); each stroke fills
   the hidden input #ID with the PNG data URL (canvas.toDataURL). No library, no build step. */
(function () {
  "use strict";
  document.querySelectorAll("canvas.signature").forEach(function (canvas) {
    var target = document.getElementById(canvas.dataset.target);
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false;
    ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
    function at(e) {
      var r = canvas.getBoundingClientRect(), p = e.touches ? e.touches[0] : e;
      return [(p.clientX - r.left) * canvas.width / r.width,
              (p.clientY - r.top) * canvas.height / r.height];
    }
    function down(e) { e.preventDefault(); drawing = true; var p = at(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); }
    function move(e) {
      if (!drawing) return;
      e.preventDefault(); var p = at(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true;
    }
    function up() {
      if (!drawing) return;
      drawing = false;
      if (drawn && target) target.value = canvas.toDataURL("image/png");
    }
    if (window.PointerEvent) {
      canvas.addEventListener("pointerdown", down); canvas.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up); canvas.style.touchAction = "none";
    } else {
      canvas.addEventListener("touchstart", down, {passive: false});
      canvas.addEventListener("touchmove", move, {passive: false});
      canvas.addEventListener("touchend", up); canvas.addEventListener("mousedown", down);
      canvas.addEventListener("mousemove", move); window.addEventListener("mouseup", up);
    }
    var clear = document.querySelector('[data-clear="' + canvas.dataset.target + '"]');
    if (clear) clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false;
      if (target) target.value = "";
    });
  });
})();
