/** A group's notice webhook: a Slack-compatible incoming webhook, sent `{ "text": … }` as JSON. */

/** How long a webhook may take to answer. */
const TIMEOUT_MS = 10_000;

/** Posts `text` to the webhook; throws on a refused or unanswered request. */
export async function postWebhook(url: string, text: string): Promise<void> {
	const response = await fetch(url, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ text }),
		signal: AbortSignal.timeout(TIMEOUT_MS),
		redirect: "error",
	});
	await response.body?.cancel();
	if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
}
