// MLiy page glue (no framework): CSRF header on htmx requests, the error region, confirmations.
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
	// The token moves on at each sign-in refresh: every answer names the current one, and the page
	// (its meta tag and its forms' hidden fields) keeps it, so a page left open keeps working.
	document.addEventListener("htmx:before:response", function (event) {
		var ctx = event.detail && event.detail.ctx;
		var token = ctx && ctx.response && ctx.response.headers && ctx.response.headers.get("X-CSRF-Token");
		if (!token) return;
		var meta = document.querySelector('meta[name="csrf-token"]');
		if (meta) meta.setAttribute("content", token);
		document.querySelectorAll('input[name="_csrf"]').forEach(function (input) {
			input.value = token;
		});
	});
	// Error answers land in the page's error region (the server retargets them there), so the row
	// or panel that asked stays as it was. A request the portal never answered says so there too.
	// The message goes away when the request that failed later succeeds (a poll, say).
	function errorRegion() {
		return document.getElementById("htmx-errors");
	}
	document.addEventListener("htmx:error", function (event) {
		var region = errorRegion();
		if (!region) return;
		region.textContent = "The portal did not answer. Check your connection and try again.";
		region.mliyFailedSource = event.target;
	});
	document.addEventListener("htmx:after:request", function (event) {
		var ctx = event.detail && event.detail.ctx;
		var region = errorRegion();
		if (!region || !ctx || !ctx.response) return;
		if (ctx.response.status >= 400) {
			if (ctx.hx && ctx.hx.retarget) region.mliyFailedSource = event.target;
		} else if (region.mliyFailedSource === event.target) {
			region.textContent = "";
			region.mliyFailedSource = null;
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
	// Copy buttons (data-copy): hidden in the HTML, shown here where the clipboard can be written, so
	// without JavaScript the text beside them is only selectable. The nearest status line says so.
	function enableCopyButtons(root) {
		if (!navigator.clipboard) return;
		root.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
			button.hidden = false;
		});
	}
	function copyStatus(button, text) {
		var holder = button.closest(".connect, .connect-compact");
		var status = holder && holder.querySelector(".copy-status");
		if (status) status.textContent = text;
	}
	document.addEventListener("click", function (event) {
		var button = event.target && event.target.closest && event.target.closest("button[data-copy]");
		if (!button) return;
		navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
			button.setAttribute("data-copied", "1");
			copyStatus(button, "Copied: " + button.getAttribute("data-copy"));
		}, function () {
			copyStatus(button, "The browser did not allow copying; select the text instead.");
		});
	});
	if (document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", function () {
			enableCopyButtons(document);
		});
	} else {
		enableCopyButtons(document);
	}
	document.addEventListener("htmx:after:swap", function () {
		enableCopyButtons(document);
	});
})();
