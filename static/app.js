// MLiy page glue (no framework): CSRF header on htmx requests, busy buttons, timestamps kept fresh.
(function () {
	"use strict";
	function csrf() {
		var meta = document.querySelector('meta[name="csrf-token"]');
		return meta ? meta.getAttribute("content") : "";
	}
	document.addEventListener("htmx:config:request", function (event) {
		var ctx = event.detail && event.detail.ctx;
		if (ctx && ctx.request && ctx.request.headers) ctx.request.headers["X-CSRF-Token"] = csrf();
	});
	// A failed request (network, 5xx) says so where the user acted instead of failing silently.
	document.addEventListener("htmx:error", function (event) {
		var source = event.target;
		var box = source && source.closest && source.closest("[data-errors]");
		if (!box) box = document.querySelector("[data-errors]");
		if (box) {
			box.textContent = "The portal did not answer. Check your connection and try again.";
			box.hidden = false;
		}
	});
	// Forms (or their submit buttons) marked data-confirm ask before submitting; htmx uses hx-confirm.
	document.addEventListener("submit", function (event) {
		var form = event.target;
		var button = event.submitter;
		var question = (button && button.getAttribute("data-confirm")) ||
			(form && form.getAttribute && form.getAttribute("data-confirm"));
		if (question && !window.confirm(question)) event.preventDefault();
	});
})();
