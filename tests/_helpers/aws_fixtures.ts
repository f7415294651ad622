/** What a fake AWS answers: a stack and an EMR cluster in our own shapes, with the values tests share. */
import type { EmrCluster, Stack } from "../../lib/aws/types.ts";

export const STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1";

/** Stack "s" (STACK_ID) in `status`, without outputs unless `extra` gives them. */
export function stack(status: string, extra: Partial<Stack> = {}): Stack {
	return { stackId: STACK_ID, name: "s", status, outputs: {}, ...extra };
}

/** Cluster j-ABCDEF in `state`, created 2025-03-01T12:00:00Z. */
export function emrCluster(state: string, extra: Partial<EmrCluster> = {}): EmrCluster {
	return { id: "j-ABCDEF", name: "s", state, tags: {}, createdAt: new Date("2025-03-01T12:00:00Z"), ...extra };
}
