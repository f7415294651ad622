/** Admin-entered HTML (configuration descriptions) reduced to harmless formatting. */
import sanitizeHtml from "sanitize-html";

const OPTIONS: sanitizeHtml.IOptions = {
	allowedTags: [
		"p",
		"br",
		"b",
		"i",
		"strong",
		"em",
		"u",
		"ul",
		"ol",
		"li",
		"a",
		"code",
		"pre",
		"h3",
		"h4",
		"span",
		"small",
		"hr",
	],
	allowedAttributes: { a: ["href", "title", "rel", "target"], span: ["title"] },
	allowedSchemes: ["http", "https", "mailto"],
	allowProtocolRelative: false,
	transformTags: {
		a: sanitizeHtml.simpleTransform("a", { rel: "noopener noreferrer", target: "_blank" }),
	},
	disallowedTagsMode: "discard",
};

/** Keeps only simple formatting and http(s)/mailto links; scripts, styles and handlers are removed. */
export function sanitizeDescription(html: string): string {
	return sanitizeHtml(html, OPTIONS).trim();
}
